# Standard library signatures the checker knows.
fn main() do
  let words = String.split("a b", " ")
  let joined = String.join(words, ",") |> String.upcase()
  let n = String.length(String.trim(" x ")) + List.length(words)
  let parsed = Option.unwrap_or(String.to_int("12"), 0)
  let f = Float.from(42) + Int.to_float(n)
  let m = Map.put(Map.new(), "k", 1)
  let keys = Map.keys(m)
  let has = Map.has_key(m, "k") and String.contains(joined, "A")
  let zipped = List.zip([1, 2], ["a", "b"])
  let e = List.enumerate(["x"])
  let port = Env.get("PORT", "8080")
  let args = Env.args()
  IO.puts("${n} ${parsed} ${f} ${keys} ${has} ${zipped} ${e} ${port} ${args}")
  print("no newline")
end
