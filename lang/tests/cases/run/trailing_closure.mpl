# A trailing `do |params| ... end` closure after a call's arguments is the
# call's last argument (as upstream), also at the end of a pipe. `if`, `for`
# and `case` heads ending in a call still open their own bodies.
fn with_value(value :: Int, block :: Fun(Int) -> Int) -> Int do
  block(value)
end

fn twice(f :: Fun() -> String) -> String = f() <> f()

fn is_big(n :: Int) -> Bool = n > 10

fn main() do
  let result = with_value(10) do |value|
    let doubled = value * 2
    doubled + 1
  end
  let labels = [1, 2] |> List.map() do |n|
    "item #{n}"
  end
  let sum = List.reduce([1, 2, 3], 0) do |acc, x|
    acc + x
  end
  let s = twice() do ||
    "ab"
  end
  if is_big(result) do
    println("${result} ${labels} ${sum} ${s}")
  end
  for x in List.reverse([1, 2]) do
    println("${x}")
  end
end
