# Extracted verbatim from shared/seeds/distributed-actors.md.
fn main() do
  Node.start("app@localhost:4000", "secret_cookie")
  println("Node started")
end
