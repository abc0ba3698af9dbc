# Extracted verbatim from shared/seeds/distributed-actors.md.
fn main() do
  Node.start("app@localhost:4000", "my_cookie")

  Global.register("db_service", self())
  println("Registered as db_service")
end
