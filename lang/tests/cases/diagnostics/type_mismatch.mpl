fn main() do
  let x :: Int = "a"
  let y = 1 + "b"
  println(42)
end
