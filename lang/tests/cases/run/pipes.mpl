# Pipes: `x |> f(a)` is `f(x, a)`, `x |2> f(a)` is `f(a, x)`; lines may
# end with or start with `|>`.
fn sub(a :: Int, b :: Int) -> Int = a - b

fn main() do
  let n = [1, 2, 3, 4]
  |> List.map(fn x -> x * 2 end)
  |> List.filter(fn x -> x > 2 end) |>
  List.length()
  println("${n}")
  println("${10 |> sub(3)} ${10 |2> sub(3)}")
  println("${2 |2> List.take([7, 8, 9])}")
  "  padded  " |> String.trim() |> String.upcase() |> println()
end
