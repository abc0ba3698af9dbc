# Deep non-tail recursion works up to a generous depth; tail calls never
# grow the stack.
fn sum_to(0) = 0
fn sum_to(n) = n + sum_to(n - 1)

fn build(0) = []
fn build(n) = [n | build(n - 1)]

fn spin(0, acc) = acc
fn spin(n, acc) = spin(n - 1, acc + 2)

fn even(0) = true
fn even(n) = odd(n - 1)
fn odd(0) = false
fn odd(n) = even(n - 1)

fn main() do
  println("${sum_to(200000)}")
  println("${List.length(build(20000))}")
  println("${spin(1000000, 0)}")
  println("${even(1000001)}")
end
