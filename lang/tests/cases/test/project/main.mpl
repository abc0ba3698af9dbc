import Counter

fn main() do
  println("${Counter.total([1, 2, 3])}")
end
