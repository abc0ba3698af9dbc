# P0 actors, spawn/send/receive/after/self/link, Process and Timer.
actor counter(n :: Int) do
  receive do
    (:add, k) -> counter(n + k)
    (:get, caller) -> do
      send(caller, n)
      counter(n)
    end
    :stop -> println("stopping at ${n}")
  after 5000 ->
    println("idle")
  end
  terminate do
    println("counter exits")
  end
end

actor echo() do
  receive do
    msg -> println("echo ${msg}")
  end
end

fn main() do
  let pid = spawn(counter, 0)
  send(pid, (:add, 2))
  send(pid, (:get, self()))
  let v = receive do
    n -> n
  after 100 -> 0
  end
  link(pid)
  let ref = Process.monitor(pid)
  Process.demonitor(ref)
  Process.register("counter", pid)
  let again = Process.whereis("counter")
  Timer.send_after(again, 10, :stop)
  Timer.sleep(20)
  let e = spawn(fn -> println("closure process") end)
  send(e, "hi")
  spawn(echo)
  println("${v}")
end
