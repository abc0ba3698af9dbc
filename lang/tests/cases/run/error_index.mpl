# Indexing past the end of a list.
fn main() do
  let xs = [1, 2, 3]
  println("${xs[2]}")
  println("${xs[3]}")
end
