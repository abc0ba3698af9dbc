test("not in a test file") do
  assert true
end

fn main() do
  println("hi")
end
