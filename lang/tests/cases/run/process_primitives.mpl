# Links, spawn_link, trap_exit, monitors and demonitor, Process.exit,
# the local registry, Process.is_alive, and timers.
actor sleeper() do
  receive do
    :stop -> ()
  end
end

fn crash(n :: Int) do
  println("crashing: ${10 / n}")
end

# Links to a process that crashes, and goes down with it.
fn linked_to(p) do
  link(p)
  send(p, :go)
  receive do
    _ -> ()
  end
end

fn crash_on_go() do
  receive do
    :go -> crash(0)
  end
end

fn spawn_linked_crasher() do
  spawn_link(crash, 0)
  receive do
    _ -> ()
  end
end

fn trapping(parent) do
  Process.trap_exit(true)
  let child = spawn_link(crash, 0)
  receive do
    (:EXIT, src, why) when src == child -> send(parent, (:trapped, why))
  end
end

fn down(pid) do
  receive do
    (:DOWN, _, :process, p, why) when p == pid -> why
  end
end

fn main() do
  println("links")
  let target = spawn(crash_on_go)
  let l = spawn(linked_to, target)
  let _ = Process.monitor(l)
  println("  linked process down: ${down(l)}")
  let m = spawn(spawn_linked_crasher)
  let _ = Process.monitor(m)
  println("  spawn_link parent down: ${down(m)}")
  spawn(trapping, self())
  receive do
    (:trapped, why) -> println("  trapped EXIT: ${why}")
  end

  println("monitors")
  let s = spawn(sleeper)
  let _ = Process.monitor(s)
  send(s, :stop)
  println("  normal: ${down(s)}")
  let s = spawn(sleeper)
  let _ = Process.monitor(s)
  Process.exit(s, :boom)
  println("  exit: ${down(s)}")
  let _ = Process.monitor(s)
  println("  already dead: ${down(s)}")
  let s = spawn(sleeper)
  let r = Process.monitor(s)
  Process.demonitor(r)
  Process.exit(s, :kill)
  receive do
    (:DOWN, _, _, _, why) -> println("  unexpected DOWN ${why}")
  after 50 -> println("  no DOWN after demonitor")
  end

  println("exit signals")
  let s = spawn(sleeper)
  Process.exit(s, :normal)
  println("  normal exit signal ignored: ${Process.is_alive(s)}")
  let _ = Process.monitor(s)
  Process.exit(s, :kill)
  println("  kill: ${down(s)}")
  println("  alive after kill: ${Process.is_alive(s)}")
  println("  self alive: ${Process.is_alive(self())}")

  println("registry")
  let s = spawn(sleeper)
  println("  register: ${Process.register("sleepy", s)}")
  println("  whereis finds it: ${Process.whereis("sleepy") == s}")
  println("  second register fails: ${Result.is_err(Process.register("sleepy", self()))}")
  Process.unregister("sleepy")
  println("  after unregister alive: ${Process.is_alive(Process.whereis("sleepy"))}")
  println("  missing name alive: ${Process.is_alive(Process.whereis("nobody"))}")
  let _ = Process.monitor(Process.whereis("nobody"))
  receive do
    (:DOWN, _, :process, _, why) -> println("  monitor of a missing name: ${why}")
  end
  send(s, :stop)

  println("timers")
  let me = self()
  Timer.send_after(me, 60, :late)
  Timer.send_after(me, 20, :early)
  send(me, :now)
  for _ in 1..4 do
    receive do
      :now -> println("  now")
      :early -> println("  early")
      :late -> println("  late")
    end
  end
  Timer.sleep(10)
  println("  slept")
  receive do
    _ -> println("  unexpected message")
  after 0 -> println("  mailbox empty")
  end
end
