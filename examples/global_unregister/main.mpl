# distributed-actors.md, "Unregistering a Name": the seed program, plus
# lookups before and after (a name nobody holds gives the same pid as any
# other unregistered name).
#   meshc run examples/global_unregister
fn main() do
  Node.start(Env.get("MESH_APP_NODE", "app@localhost:4000"), "my_cookie")

  Global.register("temp_worker", self())
  println("registered: ${Global.whereis("temp_worker") == self()}")
  # ... do some work ...
  Global.unregister("temp_worker")
  println("after unregister: ${Global.whereis("temp_worker") == self()}")
end
