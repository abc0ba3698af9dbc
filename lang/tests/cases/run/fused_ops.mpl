# Instruction pairs the VM runs fused (arithmetic then call, tail call
# or return), run long enough to cross many reduction-budget boundaries.
fn fib(n :: Int) -> Int do
  if n < 2 do
    n
  else
    fib(n - 1) + fib(n - 2)
  end
end

fn down(n :: Int) -> Int do
  if n <= 0 do
    n
  else
    down(n - 3)
  end
end

fn up(n :: Int, limit :: Int) -> Int do
  if n >= limit do
    n
  else
    up(n + 7, limit)
  end
end

fn sum(i :: Int, acc :: Int) -> Int do
  if i == 0 do
    acc
  else
    sum(i - 1, acc + i)
  end
end

fn modloop(i :: Int, acc :: Int) -> Int do
  if i != 0 do
    modloop(i - 1, (acc * 31 + i) % 65521)
  else
    acc
  end
end

fn depth(n :: Int) -> Int do
  if n > 0 do
    1 + depth(n - 1)
  else
    0
  end
end

fn main() do
  println("${fib(20)}")
  println("${down(100000)} ${down(100001)}")
  println("${up(0, 100000)}")
  println("${sum(100000, 0)}")
  println("${modloop(100000, 1)}")
  println("${depth(50000)}")
end
