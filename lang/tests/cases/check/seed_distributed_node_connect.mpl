# Extracted verbatim from shared/seeds/distributed-actors.md.
fn main() do
  Node.start("app@localhost:4000", "my_cookie")
  Node.connect("worker@localhost:4001")
  println("Connected to worker")
end
