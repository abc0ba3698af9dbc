# Structs (literal, field, update, generic, deriving), sum types with bare
# and qualified constructors, Option/Result, type aliases, equality and
# ordering of values.
struct Pt do
  x :: Int
  y :: Int
end deriving(Eq, Ord, Display, Debug, Hash)

struct Box<T> do
  value :: T
end

type Shape do
  Dot
  Circle(Float)
  Rect(Float, Float)
end deriving(Eq, Display)

type Url = String

fn area(s :: Shape) -> Float do
  case s do
    Dot -> 0.0
    Circle(r) -> 3.0 * r * r
    Shape.Rect(w, h) -> w * h
  end
end

fn home(u :: Url) -> Url = u <> "/home"

fn main() do
  let p = Pt { x: 1, y: 2 }
  let q = %{p | x: 9}
  let r = %{q | x: 0, y: 0}
  println("${p} ${q} ${r} ${p.x + q.y}")
  println("${p == Pt { y: 2, x: 1 }} ${p == q} ${p < q}")
  let b = Box { value: "boxed" }
  let bi = Box { value: [1, 2] }
  println("${b.value} ${bi.value} ${b}")
  let shapes = [Dot, Circle(1.0), Shape.Rect(2.0, 3.5), Shape.Dot]
  println("${shapes} ${List.map(shapes, area)}")
  println("${Circle(2.0) == Circle(2.0)} ${Dot == Circle(0.0)}")
  let opts = [Some(1), None]
  let res :: List<Result<Int, String>> = [Ok(1), Err("bad")]
  println("${opts} ${res}")
  println(home("example.org"))
  println("${[Pt { x: 2, y: 0 }, Pt { x: 1, y: 5 }] |> List.sort()}")
end
