# A message can be any value, so a receive arm's pattern tests the
# message's shape even where the pattern's type would make it certain:
# a string message must not match a tuple arm, nor a tuple a struct arm.
struct Pt do
  x :: Int
  y :: Int
end

fn next(label :: String) do
  receive do
    (a, b) -> println("${label}: pair ${a + b}")
    Pt { x, y } -> println("${label}: point ${x * y}")
    [h, _] -> println("${label}: two-list from ${h}")
    s -> println("${label}: other ${s}")
  end
end

fn main() do
  send(self(), "text")
  send(self(), (1, 2))
  send(self(), [7, 8])
  send(self(), Pt { x: 3, y: 4 })
  send(self(), (1, 2, 3))
  next("a")
  next("b")
  next("c")
  next("d")
  next("e")
end
