fn main() do
  let a = nope + 1
  undefined_fn(1)
  List.nothing([1])
  let c = Missing(1)
end
