# A supervised service (restarted with its initial state), a supervisor
# taken down by the linked parent that started it (its children are shut
# down first), a child whose start function fails (the supervisor stops
# the children it started and exits with the error), and a supervisor
# supervising another.
service Counter do
  fn init(start :: Int) -> Int do
    start
  end

  call Next() :: Int do |s|
    (s + 1, s)
  end
end

fn start_counter() -> Pid do
  let p = Counter.start(100)
  let _ = Process.register("counter", p)
  send(Process.whereis("main"), (:up, "counter", p))
  p
end

actor worker(name :: String) do
  send(Process.whereis("main"), (:up, name, self()))
  receive do
    :stop -> ()
  end
end

supervisor Services do
  strategy: one_for_one
  child counter do
    start: fn -> start_counter() end
  end
  child w do
    start: fn -> spawn(worker, "w") end
  end
end

fn divide(a :: Int, b :: Int) -> Int do
  a / b
end

fn broken_start() -> Pid do
  spawn(worker, "never ${divide(10, 0)}")
end

supervisor Broken do
  strategy: one_for_one
  child first do
    start: fn -> spawn(worker, "first") end
  end
  child second do
    start: fn -> broken_start() end
  end
end

supervisor Inner do
  strategy: one_for_one
  child deep do
    start: fn -> spawn(worker, "deep") end
  end
end

fn start_inner() -> Pid do
  let p = spawn(Inner)
  let _ = Process.register("inner", p)
  p
end

supervisor Outer do
  strategy: one_for_one
  child inner do
    start: fn -> start_inner() end
  end
end

fn up(name :: String) -> Pid do
  receive do
    (:up, n, pid) when n == name -> pid
  end
end

fn down(pid) do
  receive do
    (:DOWN, _, :process, p, why) when p == pid -> why
  end
end

fn parent() do
  let sup = spawn_link(Services)
  send(Process.whereis("main"), (:sup, sup))
  receive do
    :crash -> println("parent: ${divide(1, 0)}")
  end
end

# Starts Services linked, then returns normally: the supervisor goes too.
fn short_lived_parent() do
  let sup = spawn_link(Services)
  send(Process.whereis("main"), (:sup, sup))
  receive do
    :go -> ()
  end
end

fn main() do
  Process.register("main", self())

  println("supervised service")
  let sup = spawn(Services)
  let c = up("counter")
  let _ = up("w")
  println("  ${Counter.next(c)} ${Counter.next(c)} ${Counter.next(Process.whereis("counter"))}")
  Process.exit(c, :boom)
  let c2 = up("counter")
  println("  restarted with its initial state: ${Counter.next(c2)}")
  println("  registered again: ${Process.whereis("counter") == c2}")
  let _ = Process.monitor(sup)
  Process.exit(sup, :shutdown)
  println("  supervisor: ${down(sup)}")

  println("linked parent")
  let par = spawn(parent)
  let sup = receive do
    (:sup, s) -> s
  end
  let c = up("counter")
  let w = up("w")
  let _ = Process.monitor(sup)
  let _ = Process.monitor(c)
  let _ = Process.monitor(w)
  send(par, :crash)
  println("  w: ${down(w)}")
  println("  counter: ${down(c)}")
  println("  supervisor: ${down(sup)}")

  println("failed start")
  let sup = spawn(Broken)
  let _ = Process.monitor(sup)
  println("  supervisor: ${down(sup)}")

  println("nested")
  let outer = spawn(Outer)
  let deep = up("deep")
  Process.exit(deep, :boom)
  let deep2 = up("deep")
  println("  inner restarted deep: ${deep2 != deep}")
  let inner = Process.whereis("inner")
  Process.exit(inner, :kill)
  let deep3 = up("deep")
  println("  outer restarted inner: ${Process.whereis("inner") != inner}")
  println("  the killed inner took deep with it: ${Process.is_alive(deep2)}")
  let _ = Process.monitor(outer)
  Process.exit(outer, :shutdown)
  println("  outer: ${down(outer)}")
  println("  deep alive after: ${Process.is_alive(deep3)}")

  println("parent returns")
  let par = spawn(short_lived_parent)
  let sup = receive do
    (:sup, s) -> s
  end
  let _ = Process.monitor(sup)
  send(par, :go)
  println("  supervisor: ${down(sup)}")
end
