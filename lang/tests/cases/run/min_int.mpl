# The smallest Int can be written directly, as upstream: 2^63 fits only
# right after a prefix `-` (in expressions and in patterns).
fn is_min(n :: Int) -> Bool do
  case n do
    -9223372036854775808 -> true
    _ -> false
  end
end

fn main() do
  let m = -9223372036854775808
  println("${m} ${is_min(m)} ${is_min(m + 1)} ${m + 1}")
end
