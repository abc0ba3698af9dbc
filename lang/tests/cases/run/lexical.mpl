## Lexical structure: comments, separators, strings, numbers, atoms.
##! Module doc comment.
#= block #= nested =# still a comment =#
fn main() do
  # integers in every base, with separators, and unary minus
  println("${42} ${1_000_000} ${0xff} ${0b1010} ${0o17} ${-3} ${- 4}")
  # floats
  println("${1.5} ${2.0e3} ${0.1 + 0.2} ${1.0e21} ${Float.from(42)} ${-0.5}")
  # escapes; an unknown escape gives the character itself
  println("tab[\t] quote[\"] back[\\] q[\q]")
  print("newline\n")
  # interpolation with both forms and any expression
  let name = "mesh"
  println("${name} #{name} ${1 + 2} #{String.upcase(name)} ${[1, 2]}")
  # `;` separates statements like a newline
  let a = 1; let b = 2; println("${a + b}")
  # atoms
  println("${:ok} ${(:nodedown, "n@h:1")}")
  # a heredoc drops the first newline and the closing indentation
  let doc = """
    Hello, ${name}!
      indented #{1 + 1}
    """
  println(doc)
  println("end")
end
