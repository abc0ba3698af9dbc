# `from` starts an item only (`from Util import span`); elsewhere it is an
# ordinary name: a parameter, a variable, a pattern, a closure parameter.
from Util import span

fn copy(from :: Int, to :: Int) -> Int = to - from

fn main() do
  let from = 3
  from
  |> Int.to_string()
  |> println()
  let f = fn from -> from * 2 end
  receive do
    (:msg, from) -> println("from ${from}")
  after 0 -> println("${copy(from, 10)} ${f(from)} ${span(from, 5)}")
  end
end
