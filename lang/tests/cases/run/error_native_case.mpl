# A case no clause matches, inside a recursive integer function.
fn pick(n :: Int) -> Int do
  case n do
    0 -> 0
    1 -> 10
    2 -> 20 + pick(n - 1)
  end
end

fn count(n :: Int) -> Int do
  if n == 0 do
    pick(2)
  else
    count(n - 1) + pick(n)
  end
end

fn main() do
  println("${count(2)}")
  println("${count(3)}")
end
