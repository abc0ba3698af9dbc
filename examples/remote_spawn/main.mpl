# distributed-actors.md, "Spawning on a Remote Node" (two nodes; the
# worker node prints what the remote actor got):
#   meshc run examples/remote_spawn -- worker    # terminal 1
#   meshc run examples/remote_spawn              # terminal 2
# MESH_APP_NODE and MESH_WORKER_NODE override the node names.
actor worker() do
  receive do
    msg -> println("Remote worker got: ${msg}")
  end
end

fn app() do
  Node.start(Env.get("MESH_APP_NODE", "app@localhost:4000"), "my_cookie")
  Node.connect(Env.get("MESH_WORKER_NODE", "worker@localhost:4001"))

  let pid = Node.spawn(Env.get("MESH_WORKER_NODE", "worker@localhost:4001"), worker)
  send(pid, "hello from app node")
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
