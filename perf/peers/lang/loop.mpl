# lang-loop: a tail-recursive loop with integer arithmetic.
fn loop(i :: Int, acc :: Int) -> Int do
  if i == 0 do
    acc
  else
    loop(i - 1, (acc + i * 3) % 1000003)
  end
end

fn arg(i :: Int, default :: Int) -> Int do
  case List.drop(Env.args(), i) do
    [] -> default
    [a | _] -> Option.unwrap_or(String.to_int(a), default)
  end
end

fn main() do
  let n = arg(0, 10000000)
  println("${loop(n, 0)}")
end
