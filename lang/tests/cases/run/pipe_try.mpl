# `?` after a piped call applies to the call the value goes into, as
# upstream: `x |> f()?` is `(x |> f())?`, so a chain reads in order.
fn step(x :: Int) -> Int!String do
  if x > 2 do
    return Err("too big: ${x}")
  end
  Ok(x + 1)
end

fn chain(x :: Int) -> Int!String do
  let v = x |> step()? |> step()?
  Ok(v * 10)
end

fn first_even(xs :: List<Int>) -> Int? do
  let v = xs |> List.find(fn x -> x % 2 == 0 end)?
  Some(v)
end

fn main() do
  println("${chain(0)} ${chain(2)}")
  println("${first_even([1, 4])} ${first_even([1])}")
end
