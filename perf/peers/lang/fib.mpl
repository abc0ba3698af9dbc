# lang-fib: naive doubly recursive Fibonacci.
fn fib(n :: Int) -> Int do
  if n < 2 do
    n
  else
    fib(n - 1) + fib(n - 2)
  end
end

fn arg(i :: Int, default :: Int) -> Int do
  case List.drop(Env.args(), i) do
    [] -> default
    [a | _] -> Option.unwrap_or(String.to_int(a), default)
  end
end

fn main() do
  let n = arg(0, 30)
  println("${fib(n)}")
end
