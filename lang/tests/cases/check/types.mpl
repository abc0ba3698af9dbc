# P1 structs (generic, update, deriving), sum types, aliases, Option/Result, ?.
struct Pt do
  x :: Int
  y :: Int
end deriving(Eq, Display)

struct Box<T> do
  value :: T
end

type Shape do
  Dot
  Circle(Float)
  Rect(Float, Float)
end deriving(Debug)

type Url = String

fn area(s :: Shape) -> Float do
  case s do
    Dot -> 0.0
    Circle(r) -> 3.14 * r * r
    Shape.Rect(w, h) -> w * h
  end
end

fn parse(text :: Url) -> Int ! String do
  case String.to_int(text) do
    Some(n) -> Ok(n)
    None -> Err("not a number: ${text}")
  end
end

fn doubled(text :: String) -> Result<Int, String> do
  let n = parse(text)?
  Ok(n * 2)
end

fn first_even(xs :: List<Int>) -> Int? do
  let x = List.find(xs, fn x -> x % 2 == 0 end)?
  Some(x + 0)
end

fn main() do
  let p = Pt { x: 1, y: 2 }
  let q = %{p | x: 9}
  let b = Box { value: "boxed" }
  let total = p.x + q.y
  let shapes = [Dot, Circle(1.0), Shape.Rect(2.0, 3.0)]
  let areas = List.map(shapes, area)
  println("${total} ${b.value} ${areas} ${doubled("21")} ${first_even([1, 4])}")
end
