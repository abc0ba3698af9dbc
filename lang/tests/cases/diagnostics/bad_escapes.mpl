# `\u{...}` escapes: 1 to 6 hex digits naming a Unicode scalar value.
fn main() do
  println("bad \u{110000} \u{} \u{D800} \u{12")
end
