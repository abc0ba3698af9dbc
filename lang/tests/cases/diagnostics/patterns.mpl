fn f(t) do
  case t do
    (x, x) -> x
    Some(a) | None -> 0
    Some(1, 2) -> 1
  end
end
