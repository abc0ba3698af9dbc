# P1 services (GenServer) and supervisors.
service Counter do
  fn init(start :: Int) -> Int do
    start
  end

  call Get() :: Int do |s|
    (s, s)
  end

  call Add(n :: Int) :: Int do |s|
    (s + n, s + n)
  end

  cast Reset() do |_s|
    0
  end
end

actor worker() do
  receive do
    _ -> worker()
  end
end

supervisor Sup do
  strategy: one_for_one max_restarts: 3
  max_seconds: 5
  child w do
    start: fn -> spawn(worker) end
    restart: permanent
    shutdown: 5000
  end
  child v do
    start: fn -> spawn(worker) end
    restart: transient
    shutdown: brutal_kill
  end
end

fn main() do
  let pid = Counter.start(1)
  let now = Counter.get(pid)
  let later = Counter.add(pid, 2)
  Counter.reset(pid)
  let sup = spawn(Sup)
  println("${now} ${later} ${sup}")
end
