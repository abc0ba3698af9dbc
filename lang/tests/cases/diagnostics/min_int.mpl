# 2^63 without a prefix `-` does not fit an Int.
fn main() do
  let a = 9223372036854775808
  let b = 1 - 9223372036854775808
  a + b
end
