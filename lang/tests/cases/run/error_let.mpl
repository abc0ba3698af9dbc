# A refutable `let` pattern that does not match.
fn main() do
  let [a, b] = [1, 2]
  println("${a + b}")
  let [c, d] = [1, 2, 3]
  println("${c + d}")
end
