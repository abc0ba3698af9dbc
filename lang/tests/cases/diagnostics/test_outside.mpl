test("not in a test file") do
  assert true
end

fn assert(ok :: Bool) -> Bool = ok

fn main() do
  assert(true)
  assert 1 == 1
  assert_raises do
    1 / 0
  end
  println("hi")
end
