# Pure integer functions (run as native code when it is on; the case
# runner also runs this interpreted and compares): recursion, loops by
# tail call, mutual tail calls, booleans, case on integers, negation,
# division and remainder signs, and calls from callbacks and actors.
fn fib(n :: Int) -> Int do
  if n < 2 do
    n
  else
    fib(n - 1) + fib(n - 2)
  end
end

fn gcd(a :: Int, b :: Int) -> Int do
  if b == 0 do
    a
  else
    gcd(b, a % b)
  end
end

fn is_even(n :: Int) -> Bool do
  if n == 0 do
    true
  else
    is_odd(n - 1)
  end
end

fn is_odd(n :: Int) -> Bool do
  if n == 0 do
    false
  else
    is_even(n - 1)
  end
end

fn collatz(n :: Int, steps :: Int) -> Int do
  if n == 1 do
    steps
  else if n % 2 == 0 do
    collatz(n / 2, steps + 1)
  else
    collatz(3 * n + 1, steps + 1)
  end
end

fn digit_name_len(d :: Int) -> Int do
  case d do
    0 -> 4
    1 -> 3
    2 -> 3
    _ -> -1
  end
end

fn sum_names(i :: Int, acc :: Int) -> Int do
  if i < 0 do
    acc
  else
    sum_names(i - 1, acc + digit_name_len(i))
  end
end

fn signs(i :: Int, acc :: Int) -> Int do
  if i > 5 do
    acc
  else
    let x = -i - 3
    signs(i + 1, acc * 7 + x / 2 + x % 2)
  end
end

fn ackermann(m :: Int, n :: Int) -> Int do
  if m == 0 do
    n + 1
  else if n == 0 do
    ackermann(m - 1, 1)
  else
    ackermann(m - 1, ackermann(m, n - 1))
  end
end

# Interpreted (it prints), ending in a tail call of a native loop.
fn report_then_gcd(n :: Int) -> Int do
  println("gcd of ${n} and 12")
  gcd(n, 12)
end

actor worker(parent :: Pid, n :: Int) do
  send(parent, fib(n))
end

fn main() do
  println("${fib(25)}")
  println("${gcd(1071, 462)} ${gcd(17, 5)}")
  println("${is_even(100001)} ${is_odd(100001)}")
  println("${collatz(27, 0)}")
  println("${sum_names(9, 0)}")
  println("${signs(0, 1)}")
  println("${ackermann(2, 3)}")
  println("${report_then_gcd(18) + 1}")
  println("${List.map([10, 15, 20], fn x -> fib(x) end)}")
  let me = self()
  spawn(worker, me, 22)
  receive do
    v -> println("worker: ${v}")
  end
end
