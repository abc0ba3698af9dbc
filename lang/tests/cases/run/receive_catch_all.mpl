# A receive whose first arm takes anything (`_` or a name, no guard)
# takes the oldest message, after a selective receive left older ones in
# the mailbox; later arms (guarded or not) are never reached; `after`
# still fires on an empty mailbox.
fn drain(n :: Int) do
  if n > 0 do
    receive do
      m -> println("got ${m}")
      (:never, x) when x > 0 -> println("unreachable ${x}")
    end
    drain(n - 1)
  end
end

fn main() do
  let me = self()
  send(me, :a)
  send(me, (:b, 2))
  send(me, "c")
  send(me, 4)
  receive do
    (:b, x) -> println("selected b ${x}")
  end
  drain(2)
  receive do
    _ -> println("skipped one")
  end
  receive do
    m -> println("late ${m}")
  after 10 -> println("empty mailbox: after fired")
  end
  send(me, :last)
  receive do
    m -> println("got ${m} before after")
  after 1000 -> println("unexpected timeout")
  end
end
