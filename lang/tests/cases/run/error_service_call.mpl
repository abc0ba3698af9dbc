# `main` calling a service that is not running fails with a reason naming
# the call, rather than waiting for ever.
service Greeter do
  fn init() -> String do
    "hello"
  end

  call Greet(name :: String) :: String do |s|
    (s, "${s}, ${name}")
  end
end

fn main() do
  let g = Greeter.start()
  println(Greeter.greet(g, "mesh"))
  let _ = Process.monitor(g)
  Process.exit(g, :kill)
  receive do
    (:DOWN, _, :process, _, _) -> println("greeter is gone")
  end
  println(Greeter.greet(g, "again"))
end
