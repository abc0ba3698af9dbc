fn a() do
  let = 1
  let x = )
  x
end

fn b() do
  1 +
end

fn c() = [1, 2
