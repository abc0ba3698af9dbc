# Division by zero inside a native loop, and a case no clause matches.
fn walk(i :: Int, d :: Int) -> Int do
  if i == 0 do
    0
  else
    walk(i - 1, d - 1) + 100 / d
  end
end

fn main() do
  println("${walk(3, 10)}")
  println("${walk(5, 3)}")
end
