# P0 modules: path names, import, from-import, pub.
import Math.Vector
import Api.TodoItems
import Work
from Work import add, Shape

fn main() do
  let d = Vector.dot((1, 2), (3, 4))
  let items = TodoItems.list()
  let s = Shape.Circle(1.0)
  let w = Work.Shape.Dot
  println("${add(d, 1)} ${items} ${s} ${w}")
end
