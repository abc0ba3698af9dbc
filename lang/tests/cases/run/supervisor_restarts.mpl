# Restart kinds (permanent, transient, temporary), the restart intensity
# (more than max_restarts restarts within max_seconds stops the supervisor
# with reason `shutdown`) and the shutdown of children: a number of
# milliseconds to finish after the exit signal `shutdown`, or brutal_kill.
actor worker(name :: String) do
  send(Process.whereis("main"), (:up, name, self()))
  receive do
    :stop -> ()
  end
end

supervisor Kinds do
  strategy: one_for_one
  max_restarts: 10
  max_seconds: 10
  child p do
    start: fn -> spawn(worker, "p") end
    restart: permanent
  end
  child t do
    start: fn -> spawn(worker, "t") end
    restart: transient
  end
  child tmp do
    start: fn -> spawn(worker, "tmp") end
    restart: temporary
  end
end

supervisor Fragile do
  strategy: one_for_one
  max_restarts: 2
  max_seconds: 60
  child bystander do
    start: fn -> spawn(worker, "bystander") end
  end
  child crashy do
    start: fn -> spawn(worker, "crashy") end
  end
end

# Traps exits and cleans up when asked to shut down.
actor polite(name :: String) do
  Process.trap_exit(true)
  send(Process.whereis("main"), (:up, name, self()))
  receive do
    (:EXIT, _, :shutdown) -> println("  ${name} cleans up")
  end
end

# Traps exits and ignores them.
actor stubborn(name :: String) do
  Process.trap_exit(true)
  send(Process.whereis("main"), (:up, name, self()))
  ignore()
end

fn ignore() do
  receive do
    _ -> ignore()
  end
end

supervisor Shutdowns do
  strategy: one_for_one
  child polite do
    start: fn -> spawn(polite, "polite") end
    shutdown: 5000
  end
  child slow do
    start: fn -> spawn(stubborn, "slow") end
    shutdown: 50
  end
  child brutal do
    start: fn -> spawn(stubborn, "brutal") end
    shutdown: brutal_kill
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

fn down(pid) do
  receive do
    (:DOWN, _, :process, p, why) when p == pid -> why
  end
end

fn main() do
  Process.register("main", self())

  println("restart kinds")
  let sup = spawn(Kinds)
  let p = up("p")
  let t = up("t")
  let tmp = up("tmp")
  Process.exit(p, :boom)
  let p = up("p")
  println("  permanent restarted after a crash")
  send(p, :stop)
  let p = up("p")
  println("  permanent restarted after a normal exit")
  Process.exit(t, :boom)
  let t = up("t")
  println("  transient restarted after a crash")
  send(t, :stop)
  Process.exit(tmp, :boom)
  no_more_restarts()
  println("  p, t, tmp alive: ${Process.is_alive(p)} ${Process.is_alive(t)} ${Process.is_alive(tmp)}")
  let _ = Process.monitor(sup)
  Process.exit(sup, :shutdown)
  println("  supervisor down: ${down(sup)}")

  println("intensity")
  let sup = spawn(Fragile)
  let _ = Process.monitor(sup)
  let by = up("bystander")
  Process.exit(up("crashy"), :boom)
  Process.exit(up("crashy"), :boom)
  Process.exit(up("crashy"), :boom)
  println("  supervisor down: ${down(sup)}")
  println("  bystander alive: ${Process.is_alive(by)}")
  no_more_restarts()

  println("shutdown")
  let sup = spawn(Shutdowns)
  let polite = up("polite")
  let slow = up("slow")
  let brutal = up("brutal")
  let _ = Process.monitor(polite)
  let _ = Process.monitor(slow)
  let _ = Process.monitor(brutal)
  let _ = Process.monitor(sup)
  Process.exit(sup, :shutdown)
  println("  brutal: ${down(brutal)}")
  println("  slow: ${down(slow)}")
  println("  polite: ${down(polite)}")
  println("  supervisor: ${down(sup)}")
end
