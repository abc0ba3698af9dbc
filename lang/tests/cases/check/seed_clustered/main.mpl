# shared/seeds/clustered-example.txt: the scaffold's main.mpl. The seed shows
# `main`; the two log helpers are the scaffold's (they print BootstrapStatus).
fn log_bootstrap(status :: BootstrapStatus) do
  println(
    "[hello_cluster] runtime bootstrap mode=#{status.mode} node=#{status.node_name} cluster_port=#{status.cluster_port} discovery_seed=#{status.discovery_seed}"
  )
end

fn log_bootstrap_failure(reason :: String) do
  println("[hello_cluster] runtime bootstrap failed reason=#{reason}")
end

fn main() do
  case Node.start_from_env() do
    Ok(status) -> log_bootstrap(status)
    Err(reason) -> log_bootstrap_failure(reason)
  end
end
