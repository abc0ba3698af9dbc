# Patterns: _, names, literals, atoms, tuples, constructors, [], cons,
# list with tail, or-patterns, `as`, structs, maps.
struct Pt do
  x :: Int
  y :: Int
end

fn describe(v :: List<Int>) -> String do
  case v do
    [] -> "empty"
    [x] -> "one ${x}"
    h :: t when h > 10 -> "big head, ${List.length(t)} more"
    [a, b | rest] -> "starts ${a} ${b}, rest ${rest}"
  end
end

fn kind(o :: Option<Int>) -> String do
  match o do
    Some(0) | None -> "nothing"
    Some(n) as whole -> "some ${n} in ${whole}"
  end
end

fn lit(x :: Int, s :: String, f :: Float, b :: Bool) -> Int do
  case (x, s, f, b) do
    (1, "one", 1.5, true) -> 1
    (_, _, _, false) -> 2
    _ -> 3
  end
end

fn origin(p :: Pt) -> String do
  case p do
    Pt { x: 0, y: 0 } -> "origin"
    Pt { x, y: _ } -> "x=${x}"
  end
end

fn lookup(m :: Map<String, Int>) -> Int do
  case m do
    %{"k" => v} -> v
    _ -> 0
  end
end

fn atoms(msg) do
  case msg do
    (:nodedown, name) -> "down ${name}"
    (:nodeup, name) -> "up ${name}"
    _ -> "other"
  end
end

fn main() do
  println("${describe([])} | ${describe([7])} | ${describe([20, 1, 2])} | ${describe([1, 2, 3, 4])}")
  println("${kind(Some(0))} | ${kind(None)} | ${kind(Some(4))}")
  println("${lit(1, "one", 1.5, true)} ${lit(9, "x", 0.0, false)} ${lit(9, "x", 0.0, true)}")
  println("${origin(Pt { x: 0, y: 0 })} ${origin(Pt { x: 3, y: 4 })}")
  println("${lookup(%{"k" => 5})} ${lookup(%{"z" => 5})}")
  println("${atoms((:nodedown, "a@h:1"))} | ${atoms((:nodeup, "b@h:2"))} | ${atoms((:other, "c"))}")
  let (a, (b, c)) = (1, (2, 3))
  let [p, q] = [10, 20]
  let [h | t] = [5, 6, 7]
  println("${a} ${b} ${c} ${p} ${q} ${h} ${t}")
  let nil_or = fn x -> case x do
    true | false -> "bool"
  end end
  println(nil_or(true))
end
