# Map.get on a missing key names the key.
fn main() do
  let m = %{"a" => 1}
  println("${Map.get(m, "a")}")
  println("${Map.get(m, "missing")}")
end
