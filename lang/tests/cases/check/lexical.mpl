## A doc comment.
##! Module doc.
#= block #= nested =# comment =#
fn numbers() -> List<Int> do
  [42, 1_000, 0xff, 0b1010, 0o17, -3]
end

fn floats() -> List<Float> = [1.5, 2.0e3]

fn strings(name :: String) -> String do
  let esc = "tab\tnew\nquote\" back\\ nul\0 other\q"
  let heredoc = """
    Hello, ${name}!
      indented #{1 + 2}
    """
  esc <> heredoc; "done"
end

fn pipes(xs :: List<Int>) -> Int do
  xs
  |> List.map(fn x -> x * 2 end)
  |> List.filter(fn x -> x > 2 end) |>
  List.length()
end

fn positional(x :: Int) -> List<Int> = x |2> List.take([1, 2, 3])
