# Map, Set, Option and Result functions.
fn main() do
  let m = Map.new() |> Map.put("b", 2) |> Map.put("a", 1)
  println("${m} ${Map.get(m, "a")} ${Map.find(m, "a")} ${Map.find(m, "z")} ${Map.has_key(m, "b")} ${Map.has_key(m, "z")}")
  println("${Map.delete(m, "a")} ${m} ${Map.keys(m)} ${Map.values(m)} ${Map.size(m)}")
  println("${Map.to_list(m)} ${Map.from_list([(1, "one"), (2, "two")])} ${Map.merge(m, %{"c" => 3, "a" => 10})}")
  println("${m["b"]}")
  let s = Set.new() |> Set.put(3) |> Set.put(1) |> Set.put(3)
  println("${s} ${Set.size(s)} ${Set.contains(s, 1)} ${Set.contains(s, 2)} ${Set.delete(s, 1)}")
  let t = Set.from_list([1, 2, 5])
  println("${Set.to_list(s)} ${Set.union(s, t)} ${Set.intersection(s, t)} ${Set.difference(t, s)}")
  let some = Some(2)
  let none :: Option<Int> = None
  println("${Option.unwrap_or(some, 0)} ${Option.unwrap_or(none, 0)} ${Option.map(some, fn x -> x + 1 end)} ${Option.map(none, fn x -> x + 1 end)}")
  println("${Option.is_some(some)} ${Option.is_none(some)} ${Option.unwrap(some)}")
  let ok :: Result<Int, String> = Ok(5)
  let bad :: Result<Int, String> = Err("no")
  println("${Result.unwrap_or(ok, 0)} ${Result.unwrap_or(bad, 0)} ${Result.map(ok, fn x -> x * 2 end)} ${Result.map(bad, fn x -> x * 2 end)}")
  println("${Result.map_err(bad, fn e -> e <> "!" end)} ${Result.map_err(ok, fn e -> e <> "!" end)}")
  println("${Result.is_ok(ok)} ${Result.is_err(ok)} ${Result.unwrap(ok)}")
end
