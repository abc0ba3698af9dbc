# Actors: definitions, spawn (actors, functions, closures), send, receive
# with atom/tuple patterns, guards and `after`, self(), tail-recursive
# actor loops, `terminate`, and the lifetime rule (the program waits for
# every process, even after main returned).
actor counter(n :: Int) do
  receive do
    (:add, k) -> counter(n + k)
    (:get, caller) -> do
      send(caller, (:count, n))
      counter(n)
    end
    :stop -> println("counter stopping at ${n}")
  end
  terminate do
    println("counter terminate sees n=${n}")
  end
end

actor echo(prefix :: String) do
  receive do
    (sender, msg) -> send(sender, "${prefix}: ${msg}")
  end
end

fn square_and_reply(parent, x :: Int) do
  send(parent, (:square, x * x))
end

actor late() do
  receive do
  after 50 -> println("late actor done after main returned")
  end
end

fn main() do
  let c = spawn(counter, 0)
  send(c, (:add, 2))
  send(c, (:add, 40))
  send(c, (:get, self()))
  receive do
    (:count, n) -> println("count is ${n}")
  end
  send(c, :stop)

  let e = spawn(echo, "echo")
  send(e, (self(), "hello"))
  receive do
    reply -> println(reply)
  end

  spawn(square_and_reply, self(), 12)
  receive do
    (:square, v) when v > 100 -> println("big square ${v}")
    (:square, v) -> println("small square ${v}")
  end

  let me = self()
  spawn(fn -> send(me, :from_closure) end)
  receive do
    :from_closure -> println("closure process ran")
  end

  # selective receive: the later message is taken first
  send(self(), (:b, 2))
  send(self(), (:a, 1))
  receive do
    (:a, x) -> println("took a ${x} first")
  end
  receive do
    (:b, x) -> println("then b ${x}")
  end

  let got = receive do
    :never -> "impossible"
  after 20 -> "timed out"
  end
  println(got)
  spawn(late)
  println("main returns")
end
