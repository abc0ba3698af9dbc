# Services: `Name.start`, calls that block for the reply, casts, state kept
# between messages, helper functions, several services side by side, and
# what a call to a service that is gone (or goes during the call) does to
# the caller.
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

  call Div(d :: Int) :: Int do |s|
    (s, s / d)
  end

  cast Reset() do |_s|
    0
  end

  cast Bump(by :: Int, times :: Int) do |s|
    twice(s + by * times) / 2
  end

  fn twice(x :: Int) -> Int do
    x * 2
  end
end

service Stack do
  fn init() -> List<String> do
    []
  end

  call Pop() :: String do |s|
    case s do
      [] -> ([], "empty")
      h :: t -> (t, h)
    end
  end

  call Size() :: Int do |s|
    (s, List.length(s))
  end

  cast Push(x :: String) do |s|
    [x] ++ s
  end
end

# A service calling itself would wait for its own reply for ever.
service Loop do
  fn init() -> Int do
    0
  end

  call Ask() :: Int do |s|
    (s, Loop.ask(self()))
  end
end

fn call_get(c) do
  Counter.get(c)
end

fn call_div(c) do
  Counter.div(c, 0)
end

fn down_reason(pid) do
  receive do
    (:DOWN, _, :process, p, why) when p == pid -> why
  end
end

fn main() do
  let c = Counter.start(10)
  println("get: ${Counter.get(c)}")
  println("add 5: ${Counter.add(c, 5)}")
  Counter.bump(c, 3, 4)
  println("after bump: ${Counter.get(c)}")
  Counter.reset(c)
  println("after reset: ${Counter.get(c)}")

  let s = Stack.start()
  Stack.push(s, "a")
  Stack.push(s, "b")
  println("size: ${Stack.size(s)}")
  println("pop: ${Stack.pop(s)}, ${Stack.pop(s)}, ${Stack.pop(s)}")

  # Other messages do not disturb a service.
  send(c, "junk")
  send(c, (:call, 1, 2))
  println("still counting: ${Counter.add(c, 1)}")

  # Many clients at once each get their own reply.
  let me = self()
  for i in 1..6 do
    spawn(fn -> send(me, (:added, Counter.add(c, 0) + i)) end)
  end
  let total = List.sum(for _ in 1..6 do
    receive do
      (:added, v) -> v
    end
  end)
  println("replies summed: ${total}")

  # A call to a dead service ends the caller with a reason naming the call.
  let _ = Process.monitor(c)
  Process.exit(c, :kill)
  println("counter down: ${down_reason(c)}")
  let caller = spawn(call_get, c)
  let _ = Process.monitor(caller)
  println("caller down: ${down_reason(caller)}")

  # So does a service that dies while handling the call.
  let c2 = Counter.start(7)
  let _ = Process.monitor(c2)
  let caller2 = spawn(call_div, c2)
  let _ = Process.monitor(caller2)
  println("service down: ${down_reason(c2)}")
  println("caller down: ${down_reason(caller2)}")
  Process.exit(s, :kill)

  let lp = Loop.start()
  let _ = Process.monitor(lp)
  spawn(fn -> Loop.ask(lp) end)
  println("self-calling service down: ${down_reason(lp)}")
end
