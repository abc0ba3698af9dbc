# String functions and conversions.
fn main() do
  let s = "  Hello, World  "
  println("[${String.trim(s)}] ${String.length("héllo")} ${String.is_empty("")} ${String.is_empty("x")}")
  println("${String.split("a,b,,c", ",")} ${String.split("abc", "")}")
  println("${String.join(["x", "y", "z"], "-")} ${String.join([], "-")}")
  println("${String.contains("haystack", "st")} ${String.contains("haystack", "needle")}")
  println("${String.starts_with("mesh.toml", "mesh")} ${String.ends_with("mesh.toml", ".mpl")}")
  println("${String.replace("a-b-c", "-", "+")} ${String.upcase("MiXeD")} ${String.downcase("MiXeD")}")
  println("${String.to_int("42")} ${String.to_int(" 7 ")} ${String.to_int("4x")} ${String.to_float("2.5")} ${String.to_float("x")}")
  println("${String.from(12)} ${String.from([1, 2])} ${String.from(1.5)}")
  println("${String.slice("abcdef", 1, 4)} ${String.chars("héj")}")
  println("${Int.to_string(-5)} ${Int.parse("-17")} ${Int.parse("")} ${Float.parse("1e3")} ${Float.to_string(0.25)}")
end
