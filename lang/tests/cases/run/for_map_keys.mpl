# `for` over a map: a single name takes the keys (as upstream); a tuple
# pattern takes `(key, value)` pairs, in key order.
fn main() do
  let stock = %{"pears" => 20, "apples" => 10}
  let names = for fruit in stock do
    String.upcase(fruit)
  end
  let labels = for {fruit, count} in stock do
    "${count} ${fruit}"
  end
  let pairs = for (fruit, count) in stock when count > 10 do
    fruit
  end
  let n = List.length(for _ in stock do 1 end)
  println("${names} ${labels} ${pairs} ${n}")
end
