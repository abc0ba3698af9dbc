# A message is any value: reading a field of a received value that is not
# the struct the field belongs to ends the process naming the line, never
# reads another value's slot.
struct Pt do
  x :: Int
  y :: Int
end

fn main() do
  send(self(), Pt { x: 1, y: 2 })
  receive do
    p -> println("x = ${p.x}")
  end
  send(self(), (1, 2))
  receive do
    m -> println("x = ${m.x}")
  end
  println("not reached")
end
