# Upstream's Math module: abs/min/max on Int or Float, the rest on Float.
fn main() do
  println("${Math.abs(-3)} ${Math.abs(-2.5)} ${Math.min(3, 4)} ${Math.max(3, 4)}")
  println("${Math.min(1.5, 0.5)} ${Math.max(1.5, 0.5)} ${Math.pow(2.0, 10.0)} ${Math.sqrt(16.0)}")
  println("${Math.floor(2.7)} ${Math.ceil(2.1)} ${Math.round(2.5)} ${Math.round(-2.5)}")
  let xs = [3, -7, 5]
  println("${List.map(xs, fn x -> Math.abs(x) end)}")
  println("${Math.abs(-9223372036854775808)}")
end
