# List functions.
fn main() do
  let xs = [3, 1, 2]
  println("${List.new()} ${List.length(xs)} ${List.is_empty([])} ${List.is_empty(xs)}")
  println("${List.map(xs, fn x -> x * 2 end)} ${List.filter(xs, fn x -> x != 1 end)}")
  println("${List.reduce(xs, 0, fn acc, x -> acc + x end)} ${List.fold(xs, "", fn acc, x -> acc <> "${x}" end)}")
  List.each(xs, fn x -> println("each ${x}") end)
  println("${List.head(xs)} ${List.tail(xs)} ${List.get(xs, 1)} ${List.append(xs, 4)} ${List.concat(xs, [9])}")
  println("${List.reverse(xs)} ${List.sort(xs)} ${List.sort(["b", "a"])} ${xs}")
  println("${List.zip(xs, ["a", "b"])} ${List.enumerate(["x", "y"])}")
  println("${List.find(xs, fn x -> x < 3 end)} ${List.find(xs, fn x -> x > 5 end)}")
  println("${List.any(xs, fn x -> x > 2 end)} ${List.any([], fn x -> x > 2 end)} ${List.all(xs, fn x -> x > 0 end)} ${List.all(xs, fn x -> x > 1 end)}")
  println("${List.take(xs, 2)} ${List.take(xs, 10)} ${List.drop(xs, 1)} ${List.drop(xs, 5)}")
  println("${List.contains(xs, 2)} ${List.contains(xs, 7)}")
  println("${List.flat_map(xs, fn x -> [x, x * 10] end)} ${List.sum(xs)} ${List.range(2, 5)}")
  let big = List.range(0, 100000)
  println("${List.length(List.map(big, fn x -> x + 1 end))} ${List.sum(List.filter(big, fn x -> x % 2 == 0 end))}")
end
