interface Show do
  fn show(self) -> String
end

struct Pt do
  x :: Int
end deriving(Json)

impl Show for Pt do
  fn show(p) = "pt"
end

module Inner do
  fn f() = 1
end

fn main() do
  let p = Pt { x: 1 }
  p.show()
end
