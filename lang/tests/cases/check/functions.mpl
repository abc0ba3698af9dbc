# P0 functions, one-liners, annotations, return; P1 multi-clause with guards.
fn add(a :: Int, b :: Int) -> Int do
  a + b
end

def sq(x) = x * x

fn sign(0) = 0
fn sign(n) when n < 0 = -1
fn sign(_) = 1

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
  let a = add(1, sq(3))
  let s = sign(-5) + first_positive([0, 2])
  # let-polymorphism: `id` is used at two types.
  let n = id(a) + s
  let t = id("text")
  println("${n} ${t}")
end
