# distributed-actors.md, "Spawning with Links" (two nodes; the worker
# node prints "task completed"). The app waits for the task's exit signal
# (it traps exits) so it does not stop before the task has run.
#   meshc run examples/remote_spawn_link -- worker    # terminal 1
#   meshc run examples/remote_spawn_link              # terminal 2
# MESH_APP_NODE and MESH_WORKER_NODE override the node names.
actor task() do
  receive do
    msg -> println("task completed")
  end
end

fn app() do
  Node.start(Env.get("MESH_APP_NODE", "app@localhost:4000"), "my_cookie")
  Node.connect(Env.get("MESH_WORKER_NODE", "worker@localhost:4001"))
  Process.trap_exit(true)

  let pid = Node.spawn_link(Env.get("MESH_WORKER_NODE", "worker@localhost:4001"), task)
  send(pid, "start")
  receive do
    (:EXIT, _, reason) -> println("linked task exited: ${reason}")
  end
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
