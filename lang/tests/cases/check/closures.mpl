# P1 closures: every form, capture by value, multi-clause, as values.
fn apply(f :: Fun(Int) -> Int, x :: Int) -> Int = f(x)

fn main() do
  let k = 10
  let inc = fn x -> x + 1 end
  let add = fn(a, b) -> a + b end
  let answer = fn -> 42 end
  let name = fn 0 -> "zero" | n -> "other ${n}" end
  let add_k = fn x -> x + k end
  let multi = fn x ->
    let y = x * 2
    y + k
  end
  # A generic local closure used at two types.
  let twice = fn f, v -> f(f(v)) end
  let s = twice(fn t -> t <> "!" end, "hi")
  let n = twice(inc, 1)
  println("${inc(1)} ${add(1, 2)} ${answer()} ${name(0)} ${add_k(1)} ${multi(2)} ${s} ${n} ${apply(inc, 3)}")
end
