# Integer overflow is an error, not a silent wrap.
fn main() do
  let big = 9223372036854775807
  println("${big}")
  println("${big + 1}")
end
