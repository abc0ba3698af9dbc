# lang-ring: P processes in a ring pass a token for L laps (P * L hops).
actor node(next) do
  receive do
    (:next, pid) -> node(pid)
    k when k < 0 -> send(next, k)
    k -> do
      send(next, k - 1)
      node(next)
    end
  end
end

actor last(main) do
  receive do
    (:next, pid) -> last_loop(main, pid)
  end
end

actor last_loop(main, next) do
  receive do
    k when k < 0 -> send(main, :stopped)
    0 -> do
      send(main, :done)
      send(next, -1)
      last_loop(main, next)
    end
    k -> do
      send(next, k - 1)
      last_loop(main, next)
    end
  end
end

fn build(0, acc) = acc
fn build(n, acc) = build(n - 1, [spawn(node, self()) | acc])

fn link_up(nodes, tail) do
  let nexts = List.append(List.drop(nodes, 1), tail)
  List.each(List.zip(nodes, nexts), fn pair -> do
    let (a, b) = pair
    send(a, (:next, b))
  end end)
end

fn arg(i :: Int, default :: Int) -> Int do
  case List.drop(Env.args(), i) do
    [] -> default
    [a | _] -> Option.unwrap_or(String.to_int(a), default)
  end
end

fn main() do
  let p = arg(0, 1000)
  let laps = arg(1, 1000)
  let tail = spawn(last, self())
  let nodes = build(p - 1, [])
  link_up(nodes, tail)
  send(tail, (:next, List.head(nodes)))
  # p - 1 hops reach the tail, then laps - 1 more laps of p hops
  send(List.head(nodes), p - 1 + (laps - 1) * p)
  receive do
    :done -> println("${p * laps}")
  end
  receive do
    :stopped -> ()
  end
end
