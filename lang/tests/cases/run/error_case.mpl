# No case arm matches (the checker only warns).
fn name(n :: Int) -> String do
  case n do
    1 -> "one"
    2 -> "two"
  end
end

fn main() do
  println(name(1))
  println(name(3))
end
