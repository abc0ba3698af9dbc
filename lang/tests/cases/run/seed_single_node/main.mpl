# The actors of shared/seeds/distributed-actors.md, run on one node: the
# seed spawns them with Node.spawn on a remote node (a later issue); here
# they are spawned locally and sent the same messages, including the
# `(:nodedown, name)` tuple a node monitor delivers.
import Work

actor worker() do
  receive do
    msg -> println("Remote worker got: ${msg}")
  end
end

actor task() do
  receive do
    msg -> println("task completed")
  end
end

actor watcher() do
  receive do
    (:nodedown, name) -> println("Node disconnected: ${name}")
  end
end

fn main() do
  let pid = spawn(worker)
  send(pid, "hello from app node")
  Timer.sleep(10)
  let t = spawn(task)
  send(t, "start")
  Timer.sleep(10)
  let w = spawn(watcher)
  send(w, (:nodeup, "worker@localhost:4001"))
  send(w, (:nodedown, "worker@localhost:4001"))
  Timer.sleep(10)
  println("Work.add() = ${Work.add()}")
end
