# Node.start_from_env() as the clustered scaffold uses it, plus a wait for
# the peer its discovery seed finds (a cluster node then stays up).
fn await_peer(tries :: Int) do
  if Node.list() == [] and tries > 0 do
    Timer.sleep(20)
    await_peer(tries - 1)
  end
end

fn log_bootstrap(status :: BootstrapStatus) do
  println(
    "[clustered] runtime bootstrap mode=#{status.mode} node=#{status.node_name} cluster_port=#{status.cluster_port} discovery_seed=#{status.discovery_seed}"
  )
  if status.mode == "cluster" do
    await_peer(1500)
    println("peers: ${Node.list()}")
    receive do
      :stop -> ()
    end
  end
end

fn log_bootstrap_failure(reason :: String) do
  println("[clustered] runtime bootstrap failed reason=#{reason}")
end

fn main() do
  case Node.start_from_env() do
    Ok(status) -> log_bootstrap(status)
    Err(reason) -> log_bootstrap_failure(reason)
  end
end
