# A busy loop in one actor does not starve the others: the ping-pong
# finishes while the spinner is still running (all on one core).
fn spin(0) = 0
fn spin(n) = spin(n - 1)

actor spinner(main) do
  spin(3000000)
  send(main, :spun)
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
    :spun -> println("starved: spinner finished first")
  end
  receive do
    :spun -> println("spinner finished")
  end
end
