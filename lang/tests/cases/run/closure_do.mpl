# Closures with a `do ... end` body (as upstream): `fn x do ... end`,
# `fn(a, b) do ... end`, and `fn do ... end` with no parameters.
fn main() do
  let f = fn x do
    let y = x * 2
    y + 1
  end
  let g = fn(a, b) do
    a <> b
  end
  let h = fn do 42 end
  let pick = fn x when x > 0 do
    "positive"
  end
  let processed = List.map([1, 2, 3], fn x do
    let doubled = x * 2
    doubled + 1
  end)
  println("${f(1)} ${g("a", "b")} ${h()} ${pick(1)} ${processed}")
end
