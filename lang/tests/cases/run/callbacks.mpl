# Callbacks of the list functions on the VM's fast paths: plain and
# capturing closures, callbacks that tail-call, call other functions or
# run a list function themselves, and every kind of list walk.
fn twice(x :: Int) -> Int do
  x * 2
end

fn count_down(n :: Int, acc :: Int) -> Int do
  if n == 0 do
    acc
  else
    count_down(n - 1, acc + n)
  end
end

fn main() do
  let xs = [1, 2, 3, 4, 5]
  let k = 10
  println("${List.map(xs, fn x -> x + 1 end)}")
  println("${List.map(xs, fn x -> x + k end)}")
  println("${List.map(xs, fn x -> twice(x) + 1 end)}")
  println("${List.map(xs, fn x -> count_down(x, 0) end)}")
  println("${List.map(xs, fn x -> List.fold(List.range(0, x), 0, fn a, y -> a + y * k end) end)}")
  println("${List.filter(xs, fn x -> x % 2 == 1 end)}")
  println("${List.filter(xs, fn x -> x > k - 8 end)}")
  println("${List.fold(xs, 0, fn acc, x -> acc * 10 + x end)}")
  println("${List.fold(xs, k, fn acc, x -> twice(acc) - x end)}")
  println("${List.map(List.filter(xs, fn x -> x > 2 end), fn x -> "<${x}>" end)}")
  println("${List.map([], fn x -> x + 1 end)}")
  println("${List.fold([], 7, fn acc, x -> acc + x end)}")
  println("${List.any(xs, fn x -> x == 3 end)} ${List.all(xs, fn x -> x < 3 end)}")
  println("${List.find(xs, fn x -> x > 3 end)}")
  println("${List.flat_map(xs, fn x -> [x, x] end)}")
  println("${List.map(List.map(xs, fn x -> x * x end), fn x -> x - 1 end)}")
end
