# if / else if, case and match (with guards and block arms), for (with a
# filter, over maps and sets, with break/continue), while, `?`.
fn grade(n :: Int) -> String do
  if n >= 90 do
    "A"
  else if n >= 80 do
    "B"
  else
    "C"
  end
end

fn describe(x :: Int) -> String do
  case x do
    0 -> "zero"
    n when n < 0 -> "negative"
    n -> do
      let big = n > 100
      if big do "big" else "positive" end
    end
  end
end

fn parse(text :: String) -> Result<Int, String> do
  case String.to_int(text) do
    Some(n) -> Ok(n)
    None -> Err("not a number: ${text}")
  end
end

fn sum2(a :: String, b :: String) -> Result<Int, String> do
  let x = parse(a)?
  let y = parse(b)?
  Ok(x + y)
end

fn first_even(xs :: List<Int>) -> Option<Int> do
  let x = List.find(xs, fn x -> x % 2 == 0 end)?
  Some(x * 10)
end

fn main() do
  println("${grade(95)} ${grade(85)} ${grade(10)}")
  println("${describe(0)} ${describe(-3)} ${describe(5)} ${describe(500)}")
  let label = match 2 do
    1 -> "one"
    2 -> "two"
    _ -> "many"
  end
  println(label)
  println("${for x in 0..10 when x % 3 == 0 do x * x end}")
  let m = %{"a" => 1, "b" => 2}
  println("${for {k, v} in m do "${k}=${v}" end}")
  println("${for x in Set.from_list([3, 1, 2]) do x + 1 end}")
  let stopped = for x in [1, 2, 3, 4, 5] do
    if x == 4 do
      break
    end
    if x == 2 do
      continue
    end
    x
  end
  println("${stopped}")
  let w = while false do
    println("never")
  end
  println("${w}")
  println("${sum2("1", "2")} ${sum2("1", "x")} ${first_even([1, 3, 4])} ${first_even([1])}")
  let v = if true do 1 end
  println("${v}")
end
