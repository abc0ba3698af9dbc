# Functions: blocks, one-liners, `def`, annotations, early return,
# multi-clause functions with guards, recursion and tail calls.
fn add(a :: Int, b :: Int) -> Int do
  a + b
end

fn sq(x) = x * x

def cube(x) = x * sq(x)

fn sign(0) = 0
fn sign(n) when n < 0 = -1
fn sign(_) = 1

fn classify(n :: Int) -> String do
  if n > 100 do
    return "big"
  end
  if n > 10 do
    "medium"
  else if n > 0 do
    "small"
  else
    "none"
  end
end

fn fact(0) = 1
fn fact(n) = n * fact(n - 1)

fn count(0, acc) = acc
fn count(n, acc) = count(n - 1, acc + 1)

fn first_positive(xs :: List<Int>) -> Int do
  for x in xs do
    if x > 0 do
      return x
    end
  end
  0
end

fn id(x) = x

fn main() do
  println("${add(1, 2)} ${sq(4)} ${cube(3)}")
  println("${sign(0)} ${sign(-7)} ${sign(7)}")
  println("${classify(500)} ${classify(50)} ${classify(5)} ${classify(-5)}")
  println("${fact(20)}")
  println("${count(1000000, 0)}")
  println("${first_positive([-1, 0, 3, 4])} ${first_positive([])}")
  println("${id(1)} ${id("poly")}")
end
