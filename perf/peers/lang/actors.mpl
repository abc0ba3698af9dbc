# lang-actors: spawn N actors; each receives one message, replies, exits.
actor waiter(main) do
  receive do
    k -> send(main, k)
  end
end

fn spawn_all(0, acc) = acc
fn spawn_all(n, acc) = spawn_all(n - 1, [spawn(waiter, self()) | acc])

fn collect(0, sum) = sum
fn collect(n, sum) do
  receive do
    k -> collect(n - 1, sum + k)
  end
end

fn arg(i :: Int, default :: Int) -> Int do
  case List.drop(Env.args(), i) do
    [] -> default
    [a | _] -> Option.unwrap_or(String.to_int(a), default)
  end
end

fn main() do
  let n = arg(0, 100000)
  let pids = spawn_all(n, [])
  List.each(pids, fn p -> send(p, 1) end)
  println("${collect(n, 0)}")
end
