# A long `List.map` in one actor does not starve the others: every
# callback costs a reduction, so the ping-pong finishes first (all on
# one core).
actor spinner(main) do
  let xs = List.map(List.range(0, 3000000), fn x -> x + 1 end)
  send(main, (:spun, List.length(xs)))
end

actor ponger() do
  receive do
    (p, 0) -> send(p, :pong_done)
    (p, k) -> do
      send(p, (:ping, k))
      ponger()
    end
  end
end

fn pinger(pong, k :: Int) do
  send(pong, (self(), k))
  if k > 0 do
    receive do
      (:ping, _) -> pinger(pong, k - 1)
    end
  end
end

fn main() do
  spawn(spinner, self())
  let pong = spawn(ponger)
  pinger(pong, 100)
  receive do
    :pong_done -> println("ping-pong finished first")
    (:spun, _) -> println("starved: the mapping finished first")
  end
  receive do
    (:spun, n) -> println("mapped ${n}")
    :pong_done -> println("ping-pong finished")
  end
end
