# Option.unwrap on None, and List.head on an empty list.
fn main() do
  println("${Option.unwrap(Some(1))}")
  let none :: Option<Int> = None
  println("${Option.unwrap(none)}")
end
