# A ring of actors passing a token: 10,000 processes, 100 laps, one
# million messages. Each relay is a tail-recursive actor loop; the token
# carries its hop count, and main (the ring's last stop) sends it round
# again until every lap is done, then stops every relay.
actor relay(next) do
  receive do
    (:token, hops) -> do
      send(next, (:token, hops + 1))
      relay(next)
    end
    :stop -> send(next, :stop)
  end
end

fn build(0, next) = next
fn build(n, next) = build(n - 1, spawn(relay, next))

fn laps(first, remaining :: Int) -> Int do
  receive do
    (:token, hops) -> if remaining == 1 do
      hops
    else
      send(first, (:token, hops))
      laps(first, remaining - 1)
    end
  end
end

fn main() do
  let size = 10000
  let rounds = 100
  let first = build(size, self())
  send(first, (:token, 0))
  let hops = laps(first, rounds)
  send(first, :stop)
  receive do
    :stop -> println("ring of ${size} processes: ${rounds} laps, ${hops} hops")
  end
end
