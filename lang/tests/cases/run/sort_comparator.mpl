# `List.sort(xs, cmp)`, upstream's comparator form: `cmp(a, b)` answers a
# negative, zero or positive Int. The sort is stable. `List.sort(xs)` keeps
# the natural order.
fn main() do
  let xs = [5, 3, 9, 1, 3, 7, 2, 8, 6, 4, 0]
  println("${List.sort(xs, fn a, b -> b - a end)}")
  println("${xs |> List.sort(fn a, b -> a - b end)} ${List.sort(xs)}")
  let words = ["pear", "fig", "apple", "kiwi", "date", "banana"]
  # By length only: words of one length keep their order.
  println("${List.sort(words, fn a, b -> String.length(a) - String.length(b) end)}")
  println("${List.sort([], fn a, b -> a - b end)} ${List.sort([1], fn a, b -> a - b end)}")
  let big = List.map(List.range(0, 1000), fn i -> (i * 7919) % 1000 end)
  let sorted = List.sort(big, fn a, b -> a - b end)
  println("${sorted == List.range(0, 1000)}")
end
