# distributed-actors.md, "Connecting Nodes" (two nodes):
#   meshc run examples/node_connect -- worker    # terminal 1
#   meshc run examples/node_connect              # terminal 2
# MESH_APP_NODE and MESH_WORKER_NODE override the node names.
fn app() do
  Node.start(Env.get("MESH_APP_NODE", "app@localhost:4000"), "my_cookie")
  Node.connect(Env.get("MESH_WORKER_NODE", "worker@localhost:4001"))
  println("Connected to worker")
end

# The other node: this same program, started with the argument `worker`.
fn worker_node() do
  Node.start(Env.get("MESH_WORKER_NODE", "worker@localhost:4001"), "my_cookie")
  println("node ${Node.self()}")
  receive do
    :stop -> ()
  end
end

fn main() do
  if Env.args() == ["worker"] do
    worker_node()
  else
    app()
  end
end
