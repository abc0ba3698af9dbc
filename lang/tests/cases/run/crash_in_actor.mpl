# A failing actor does not stop main; its error goes to stderr.
actor fragile(n :: Int) do
  receive do
    d -> println("${n / d}")
  end
end

fn main() do
  let a = spawn(fragile, 10)
  send(a, 0)
  Timer.sleep(20)
  let b = spawn(fragile, 10)
  send(b, 2)
  Timer.sleep(20)
  println("main still here")
end
