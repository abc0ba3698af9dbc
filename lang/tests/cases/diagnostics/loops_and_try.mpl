fn f(x :: Int) -> Int do
  break
  let y = x?
  y
end

fn g() -> Int do
  let v = String.to_int("1")?
  v
end
