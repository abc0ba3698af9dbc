# distributed-actors.md, "Node Monitoring" (two nodes: the worker node
# stops as soon as the app has connected; the app's main monitors it and
# receives the :nodedown message, which the watcher actor of the seed
# shows how to match):
#   meshc run examples/node_monitor -- worker    # terminal 1
#   meshc run examples/node_monitor              # terminal 2
# MESH_APP_NODE and MESH_WORKER_NODE override the node names.
actor watcher() do
  receive do
    (:nodedown, name) -> println("Node disconnected: ${name}")
  end
end

fn app() do
  Node.start(Env.get("MESH_APP_NODE", "app@localhost:4000"), "my_cookie")
  Node.connect(Env.get("MESH_WORKER_NODE", "worker@localhost:4001"))

  Node.monitor(Env.get("MESH_WORKER_NODE", "worker@localhost:4001"))

  # If worker disconnects, the current process receives a :nodedown message
  receive do
    (:nodedown, name) -> println("Node disconnected: ${name}")
  end
end

# Waits (bounded) until some node has connected, then returns: the
# program ends and its node goes away.
fn await_peer(tries :: Int) do
  if Node.list() == [] and tries > 0 do
    Timer.sleep(20)
    await_peer(tries - 1)
  end
end

fn worker_node() do
  Node.start(Env.get("MESH_WORKER_NODE", "worker@localhost:4001"), "my_cookie")
  println("node ${Node.self()}")
  await_peer(1500)
  println("stopping")
end

fn main() do
  if Env.args() == ["worker"] do
    worker_node()
  else
    app()
  end
end
