# A user-defined list of 100,000 cells is a chain of 100,000 nested
# variants: building, comparing, showing and dropping it must not run out
# of stack.
type Cells do
  Empty
  Cell(Int, Cells)
end

fn build(n :: Int, acc :: Cells) -> Cells do
  if n == 0 do acc else build(n - 1, Cell(n, acc)) end
end

fn total(c :: Cells, acc :: Int) -> Int do
  case c do
    Empty -> acc
    Cell(x, rest) -> total(rest, acc + x)
  end
end

fn main() do
  let cells = build(100000, Empty)
  println("${total(cells, 0)} ${cells == build(100000, Empty)}")
  println("${String.length("${cells}")}")
end
