# Patterns: _, names, literals, atoms, tuples, ctors, [], cons, or, as, structs, maps.
struct Pt do
  x :: Int
  y :: Int
end

fn describe(v :: List<Int>) -> String do
  case v do
    [] -> "empty"
    [x] -> "one ${x}"
    h :: t when h > 10 -> "big head, ${List.length(t)} more"
    [a, b | _] -> "starts ${a} ${b}"
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

fn origin(p :: Pt) -> Bool do
  case p do
    Pt { x: 0, y: 0 } -> true
    Pt { x, y: _ } -> x == 0
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
    (:nodeup, name) -> do
      let text = "up ${name}"
      text
    end
    _ -> "other"
  end
end
