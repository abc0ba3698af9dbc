# P1 tuples, unit, lists, ++, maps, ranges, index, <>, for/while/break/continue.
fn main() do
  let pair = (1, "a")
  let (n, s) = pair
  let u = ()
  let xs = [1, 2] ++ [3]
  let m = %{"k" => n, "j" => 2}
  let atoms = %{a: 1, b: 2}
  let first = xs[0]
  let v = m["k"]
  let r = 0..10
  let greeting = s <> "!"
  let doubled = for x in r when x > 2 do
    x * 2
  end
  let pairs = for {k, val} in m do
    "${k}=${val}"
  end
  let i = 0
  while i < 3 do
    if i == 1 do
      continue
    end
    break
  end
  let total = List.reduce(xs, 0, fn acc, x -> acc + x end)
  let set = Set.put(Set.new(), 3)
  println("${u} ${first} ${v} ${greeting} ${doubled} ${pairs} ${total} ${Set.size(set)} ${Map.get(atoms, :a)}")
end
