# `\u{...}` escapes name a Unicode character by its code point (as upstream).
fn main() do
  println("\u{1F389} caf\u{e9} \u{41}\u{42}")
  let h = """
    \u{2713} done
    """
  println(h)
end
