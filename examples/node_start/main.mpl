# distributed-actors.md, "Starting a Node": the seed program, with the
# node name overridable (MESH_APP_NODE) so tests can use port 0.
#   meshc run examples/node_start
fn main() do
  Node.start(Env.get("MESH_APP_NODE", "app@localhost:4000"), "secret_cookie")
  println("Node started")
end
