pub fn total(xs :: List<Int>) -> Int do
  List.fold(xs, 0, fn(acc, x) -> acc + x end)
end

pub actor echo() do
  receive do
    (sender, msg) -> send(sender, (:echo, msg))
  end
  echo()
end
