# Overflow deep inside a recursive integer function names its line, run
# natively or not.
fn grow(n :: Int, acc :: Int) -> Int do
  if n == 0 do
    acc
  else
    grow(n - 1, acc * 3 + 1)
  end
end

fn main() do
  println("${grow(10, 0)}")
  println("${grow(100, 0)}")
end
