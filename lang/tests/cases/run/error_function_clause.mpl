# No clause of a multi-clause function matches.
fn only_small(0) = "zero"
fn only_small(n) when n < 10 = "small"

fn main() do
  println(only_small(3))
  println(only_small(30))
end
