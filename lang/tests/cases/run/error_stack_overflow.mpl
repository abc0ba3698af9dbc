# Non-tail recursion without end hits the depth limit with a clear error.
fn down(n :: Int) -> Int = 1 + down(n + 1)

fn main() do
  println("${down(0)}")
end
