# A callback of List.map that fails ends the program with the line of
# the failing expression.
fn main() do
  let xs = List.map([1, 2, 0, 4], fn x -> 100 / x end)
  println("${xs}")
end
