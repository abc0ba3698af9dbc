# A ring of 101 processes passing a counter token; when the last process
# sees 0 it reports and sends -1 around, which stops every process.
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
    (:next, pid) -> last_loop(main, pid, 0)
  end
end

actor last_loop(main, next, laps :: Int) do
  receive do
    k when k < 0 -> println("ring stopped after ${laps} laps")
    0 -> do
      send(main, :done)
      send(next, -1)
      last_loop(main, next, laps + 1)
    end
    k -> do
      send(next, k - 1)
      last_loop(main, next, laps + 1)
    end
  end
end

fn build(0, acc) = acc
fn build(n, acc) = build(n - 1, [spawn(node, self()) | acc])

fn main() do
  let tail = spawn(last, self())
  let nodes = build(100, [])
  # node i -> node i+1, the last node -> tail, tail -> the first node
  List.each(List.zip(nodes, List.append(List.drop(nodes, 1), tail)), fn pair -> do
    let (a, b) = pair
    send(a, (:next, b))
  end end)
  send(tail, (:next, List.head(nodes)))
  # 100 hops reach the tail, then 10 laps of 101
  send(List.head(nodes), 100 + 10 * 101)
  receive do
    :done -> println("token went around")
  end
end
