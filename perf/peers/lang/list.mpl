# lang-list: map, filter and fold over a list of N integers.
fn arg(i :: Int, default :: Int) -> Int do
  case List.drop(Env.args(), i) do
    [] -> default
    [a | _] -> Option.unwrap_or(String.to_int(a), default)
  end
end

fn main() do
  let n = arg(0, 1000000)
  let xs = List.range(0, n)
  let ys = List.map(xs, fn x -> x * 3 end)
  let zs = List.filter(ys, fn x -> x % 2 == 0 end)
  let s = List.fold(zs, 0, fn acc, x -> acc + x end)
  println("${s}")
end
