# A native integer loop is preempted like interpreted code: two actors
# spinning "forever" (one of them under 1,000 native frames) do not
# starve main, and killing them mid-loop stops them.
fn spin(i :: Int, acc :: Int) -> Int do
  if i == 0 do
    acc
  else
    spin(i - 1, (acc + i) % 1000003)
  end
end

fn deep(n :: Int, spins :: Int) -> Int do
  if n == 0 do
    spin(spins, 0)
  else
    1 + deep(n - 1, spins)
  end
end

actor spinner(n :: Int) do
  println("never: ${spin(n, 0)}")
end

actor digger(n :: Int) do
  println("never: ${deep(n, 4000000000000000000)}")
end

fn main() do
  let a = spawn(spinner, 4000000000000000000)
  let b = spawn(spinner, 4000000000000000000)
  let c = spawn(digger, 1000)
  Timer.sleep(30)
  println("main runs while they spin")
  Process.exit(a, :kill)
  Process.exit(b, :kill)
  Process.exit(c, :kill)
  println("stopped: ${Process.is_alive(a)} ${Process.is_alive(b)}")
  println("${deep(100000, 1000)} ${spin(1000, 0)}")
end
