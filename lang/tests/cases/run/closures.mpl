# Closures: every form, capture by value, multi-clause, functions and
# builtins as values, higher-order functions, recursion through values.
fn apply(f :: Fun(Int) -> Int, x :: Int) -> Int = f(x)

fn make_adder(k :: Int) -> Fun(Int) -> Int = fn x -> x + k end

fn double(x :: Int) -> Int = x * 2

fn compose(f, g) = fn x -> g(f(x)) end

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
  println("${inc(1)} ${add(1, 2)} ${answer()} ${name(0)} ${name(5)} ${add_k(1)} ${multi(2)}")
  # captured by value: a later shadowing `k` does not change add_k
  let k = 1000
  println("${add_k(1)} ${k}")
  let twice = fn f, v -> f(f(v)) end
  println("${twice(fn t -> t <> "!" end, "hi")} ${twice(inc, 1)}")
  println("${apply(double, 21)} ${apply(make_adder(5), 1)} ${compose(inc, double)(3)}")
  let up = String.upcase
  println("${up("builtin as value")} ${List.map(["a", "b"], String.upcase)}")
  let adders = List.map([1, 2, 3], make_adder)
  println("${List.map(adders, fn f -> f(100) end)}")
end
