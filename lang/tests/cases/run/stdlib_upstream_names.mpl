# Upstream's names for library functions: Set.add/remove,
# String.to_upper/to_lower, List.nth/last/flatten.
fn main() do
  let s = Set.new() |> Set.add(3) |> Set.add(1) |> Set.add(3)
  println("${s} ${Set.remove(s, 3)} ${Set.contains(Set.remove(s, 1), 1)}")
  println("${String.to_upper("MeSh")} ${String.to_lower("MeSh")}")
  let xs = [10, 20, 30]
  println("${List.nth(xs, 1)} ${List.last(xs)} ${List.flatten([[1, 2], [], [3]])}")
  println("${List.last([])}")
end
