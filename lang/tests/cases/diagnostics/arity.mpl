fn add(a, b) = a + b

actor worker(n :: Int) do
  println("${n}")
end

fn main() do
  add(1)
  String.length("a", "b")
  spawn(worker, 1, 2)
end
