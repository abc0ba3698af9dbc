# Node and Global in a program that is not a node (no transport given):
# calls that can fail return Err with a reason, queries answer as Erlang
# does, and a node monitor reports the node down at once.
actor worker() do
  receive do
    msg -> println("worker got ${msg}")
  end
end

fn main() do
  println("self: ${Node.self()}")
  println("list: ${Node.list()}")
  println("start: ${Node.start("a@127.0.0.1:0", "cookie")}")
  println("connect: ${Node.connect("b@127.0.0.1:4001")}")
  println("register: ${Global.register("x", self())}")
  println("whereis is nobody: ${Global.whereis("x") == Global.whereis("y")}")
  Global.unregister("x")
  Node.monitor("b@127.0.0.1:4001")
  receive do
    (:nodedown, name) -> println("nodedown ${name}")
  after 1000 ->
    println("no nodedown")
  end
  Node.spawn("b@127.0.0.1:4001", worker)
  println("not reached")
end
