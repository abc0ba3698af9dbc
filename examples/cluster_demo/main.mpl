# Two Mesh nodes on loopback (run.sh starts both, or by hand):
#   meshc run examples/cluster_demo -- worker    # terminal 1
#   meshc run examples/cluster_demo              # terminal 2
# MESH_APP_NODE and MESH_WORKER_NODE override the node names.
#
# The worker node registers a global echo service and a stop switch. The
# app node connects, spawns summing actors on the worker node (remote
# spawn with arguments), ping-pongs 10,000 messages with the global echo,
# sends structured values across, then monitors the worker node, asks it
# to stop and receives :nodedown when it has gone.
struct Job do
  from :: Int
  to :: Int
end deriving(Display)

# Sum of squares of from..to, reported to `parent` with the node it ran on.
actor summer(parent :: Pid, job :: Job) do
  let total = List.fold(List.range(job.from, job.to), 0, fn acc, x -> acc + x * x end)
  send(parent, (Node.self(), job, total))
end

actor echo() do
  receive do
    (sender, msg) -> send(sender, msg)
  end
  echo()
end

# The n answers, in job order (they arrive in any order).
fn collect(n :: Int, acc :: List<(Int, String, Job, Int)>) -> List<(Int, String, Job, Int)> do
  if n == 0 do
    List.sort(acc)
  else
    receive do
      (node, job, total) -> collect(n - 1, List.append(acc, (job.from, node, job, total)))
    end
  end
end

fn show(answer :: (Int, String, Job, Int)) do
  let (_, node, job, total) = answer
  println("  ${job} ran on ${node}: ${total}")
end

fn total_of(answer :: (Int, String, Job, Int)) -> Int do
  let (_, _, _, total) = answer
  total
end

fn pingpong(echo :: Pid, n :: Int, done :: Int) -> Int do
  if n == 0 do
    done
  else
    send(echo, (self(), n))
    receive do
      m -> pingpong(echo, n - 1, done + if m == n do 1 else 0 end)
    end
  end
end

fn await_name(name :: String, tries :: Int) do
  if Global.whereis(name) == Global.whereis("") and tries > 0 do
    Timer.sleep(20)
    await_name(name, tries - 1)
  end
end

fn app() do
  let worker = Env.get("MESH_WORKER_NODE", "worker@localhost:4001")
  Node.start(Env.get("MESH_APP_NODE", "app@localhost:4000"), "demo_cookie")
  case Node.connect(worker) do
    Ok(_) -> println("app: connected to ${worker}")
    Err(e) -> println("app: cannot connect: ${e}")
  end
  println("app: peers ${Node.list()}")

  println("app: sum of squares of 0..400000, in 4 jobs spawned on the worker node")
  let jobs = for i in 0..4 do
    Job { from: i * 100000, to: (i + 1) * 100000 }
  end
  List.each(jobs, fn job -> Node.spawn(worker, summer, self(), job) end)
  let answers = collect(4, [])
  List.each(answers, show)
  println("app: total ${List.fold(answers, 0, fn acc, a -> acc + total_of(a) end)}")

  await_name("echo", 250)
  let e = Global.whereis("echo")
  println("app: ${pingpong(e, 10000, 0)} of 10000 round trips to the global echo on the worker node")
  send(e, (self(), %{"squares" => [Some((1.5, "x")), None], "cubes" => [Some((2.5, "y"))]}))
  receive do
    v -> println("app: echoed back ${v}")
  end

  Node.monitor(worker)
  send(Global.whereis("stop"), :stop)
  receive do
    (:nodedown, name) -> println("app: ${name} is down")
  after 10000 ->
    println("app: the worker did not stop")
  end
end

fn worker_node() do
  Node.start(Env.get("MESH_WORKER_NODE", "worker@localhost:4001"), "demo_cookie")
  println("node ${Node.self()}")
  Global.register("echo", spawn(echo))
  Global.register("stop", self())
  receive do
    :stop -> println("worker: stopping")
  end
  # The program ends with main: its node goes away.
  Process.exit(Global.whereis("echo"), :kill)
end

fn main() do
  if Env.args() == ["worker"] do
    worker_node()
  else
    app()
  end
end
