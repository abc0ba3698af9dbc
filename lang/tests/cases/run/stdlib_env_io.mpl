# Env and IO: defaults for unset variables, program arguments, stderr.
fn main() do
  println(Env.get("MESH_TEST_SURELY_UNSET_VARIABLE", "fallback"))
  println("${Env.get_int("MESH_TEST_SURELY_UNSET_VARIABLE", 7)}")
  println("${Env.args()}")
  IO.eprintln("to stderr")
  IO.puts("puts")
  IO.println("println")
  IO.print("print")
  print("\n")
end
