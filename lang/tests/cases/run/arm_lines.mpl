# A `case` or `receive` arm whose `->` ends the line takes the following
# lines as its body, up to the next arm, `after` or `end` (as upstream);
# `-> do ... end` still works. Closures inside such a body do not end it.
fn score(o :: Option<Int>) -> Int do
  let points = case o do
    Some(n) when n > 100 -> do
      let capped = 100
      capped
    end
    Some(n) ->
      let doubled = n * 2
      let f = fn x do
        x + 1
      end
      let g = fn y -> y * 1 end
      f(g(doubled))
    None -> return 0
  end
  points * 10
end

fn main() do
  println("${score(Some(5))} ${score(None)} ${score(Some(500))}")
  send(self(), 4)
  receive do
    n ->
      let m = n * n
      println("got ${m}")
  after 10 ->
    println("nothing")
  end
  let label = case 2 do
    1 ->
      "one"
    _ ->
      "many"
  end
  println(label)
end
