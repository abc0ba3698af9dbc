# distributed-actors.md, "Registering a Name": the seed program, plus a
# lookup showing the name is there.
#   meshc run examples/global_register
fn main() do
  Node.start(Env.get("MESH_APP_NODE", "app@localhost:4000"), "my_cookie")

  Global.register("db_service", self())
  println("Registered as db_service")
  println("whereis finds me: ${Global.whereis("db_service") == self()}")
end
