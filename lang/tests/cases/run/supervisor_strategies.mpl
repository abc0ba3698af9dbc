# Supervisor strategies: one_for_one restarts the child that died,
# one_for_all restarts every child, rest_for_one the child and those
# started after it. Children report `(:up, name, pid)` to main when they
# start, so main can wait for exactly the restarts it expects.
actor worker(name :: String) do
  send(Process.whereis("main"), (:up, name, self()))
  receive do
    :stop -> ()
  end
end

supervisor OneForOne do
  strategy: one_for_one
  max_restarts: 5
  max_seconds: 10
  child a do
    start: fn -> spawn(worker, "a") end
    restart: permanent
    shutdown: 1000
  end
  child b do
    start: fn -> spawn(worker, "b") end
    restart: permanent
    shutdown: 1000
  end
  child c do
    start: fn -> spawn(worker, "c") end
    restart: permanent
    shutdown: 1000
  end
end

supervisor OneForAll do
  strategy: one_for_all
  max_restarts: 5
  max_seconds: 10
  child a do
    start: fn -> spawn(worker, "a") end
  end
  child b do
    start: fn -> spawn(worker, "b") end
  end
  child c do
    start: fn -> spawn(worker, "c") end
  end
end

supervisor RestForOne do
  strategy: rest_for_one
  max_restarts: 5
  max_seconds: 10
  child a do
    start: fn -> spawn(worker, "a") end
  end
  child b do
    start: fn -> spawn(worker, "b") end
  end
  child c do
    start: fn -> spawn(worker, "c") end
  end
end

fn up(name :: String) -> Pid do
  receive do
    (:up, n, pid) when n == name -> pid
  end
end

fn no_more_restarts() do
  receive do
    (:up, n, _) -> println("  unexpected restart of ${n}")
  after 100 -> println("  nothing else restarted")
  end
end

fn stop(sup) do
  let _ = Process.monitor(sup)
  Process.exit(sup, :shutdown)
  receive do
    (:DOWN, _, :process, p, why) when p == sup -> println("  supervisor down: ${why}")
  end
end

fn alive(pids :: List<Pid>) -> String do
  String.join(List.map(pids, fn p -> "${Process.is_alive(p)}" end), " ")
end

fn main() do
  Process.register("main", self())

  println("one_for_one")
  let sup = spawn(OneForOne)
  let a = up("a")
  let b = up("b")
  let c = up("c")
  Process.exit(b, :boom)
  let b2 = up("b")
  println("  b restarted as a new process: ${b2 != b}")
  println("  a, old b, c alive: ${alive([a, b, c])}")
  no_more_restarts()
  stop(sup)
  println("  children alive after: ${alive([a, b2, c])}")

  println("one_for_all")
  let sup = spawn(OneForAll)
  let a = up("a")
  let b = up("b")
  let c = up("c")
  Process.exit(b, :boom)
  let a2 = up("a")
  let b2 = up("b")
  let c2 = up("c")
  println("  old a, b, c alive: ${alive([a, b, c])}")
  println("  new a, b, c alive: ${alive([a2, b2, c2])}")
  no_more_restarts()
  stop(sup)

  println("rest_for_one")
  let sup = spawn(RestForOne)
  let a = up("a")
  let b = up("b")
  let c = up("c")
  Process.exit(b, :boom)
  let b2 = up("b")
  let c2 = up("c")
  println("  a, old b, old c alive: ${alive([a, b, c])}")
  println("  new b, c alive: ${alive([b2, c2])}")
  no_more_restarts()
  stop(sup)
end
