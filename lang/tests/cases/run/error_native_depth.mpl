# Native and interpreted code nest calls exactly as deep: a million
# frames counting main's, then the stack-overflow error at the call.
fn depth(n :: Int) -> Int do
  if n == 0 do
    0
  else
    1 + depth(n - 1)
  end
end

fn main() do
  println("${depth(999998)}")
  println("${depth(999999)}")
end
