# Tuples, unit, lists, ++, maps, ranges, indexing, string concatenation.
fn main() do
  let pair = (1, "a")
  let (n, s) = pair
  println("${pair} ${n} ${s} ${()}")
  let xs = [1, 2] ++ [3]
  println("${xs} ${xs[0]} ${xs[2]} ${[]} ${[[1], [2, 3]]}")
  let words = ["hello", "world"]
  println("${words} ${words[1]}")
  let m = %{"k" => 1, "j" => 2}
  println("${m} ${m["j"]} ${Map.size(m)}")
  let atoms = %{a: 1, b: 2}
  println("${atoms} ${Map.get(atoms, :a)}")
  let r = 0..5
  println("${r} ${List.length(1..1)} ${5..2}")
  println("${"con" <> "cat"} ${[1] ++ [] ++ [2, 3]}")
  let nested = (1, (2.5, [true, false]), %{1 => [:x]})
  println("${nested}")
  let cons = [0 | xs]
  println("${cons}")
end
