# distributed-actors.md, "Looking Up a Name" (two nodes: the db node
# registers "db_service"; the app looks it up and sends it a query):
#   meshc run examples/global_whereis -- worker    # terminal 1
#   meshc run examples/global_whereis              # terminal 2
# MESH_APP_NODE and MESH_WORKER_NODE override the node names.
actor db_service() do
  receive do
    msg -> println("db_service got: ${msg}")
  end
  db_service()
end

# Names replicate right after the connection is up: wait (bounded) until
# this node has seen it. An unregistered name gives the same pid as any other.
fn await_name(name :: String, tries :: Int) do
  if Global.whereis(name) == Global.whereis("") and tries > 0 do
    Timer.sleep(20)
    await_name(name, tries - 1)
  end
end

fn app() do
  Node.start(Env.get("MESH_APP_NODE", "app@localhost:4000"), "my_cookie")
  Node.connect(Env.get("MESH_WORKER_NODE", "worker@localhost:4001"))
  await_name("db_service", 250)

  let pid = Global.whereis("db_service")
  send(pid, "query")
end

fn worker_node() do
  Node.start(Env.get("MESH_WORKER_NODE", "worker@localhost:4001"), "my_cookie")
  println("node ${Node.self()}")
  Global.register("db_service", spawn(db_service))
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
