type Shape do
  Dot
  Circle(Float)
  Rect(Float, Float)
end

fn area(s :: Shape) -> Float do
  case s do
    Circle(r) -> r
  end
end

fn flag(b :: Bool) -> Int do
  case b do
    true -> 1
  end
end

fn main() do
  println("${area(Dot)} ${flag(true)}")
end
