# Division by zero ends main with the file and line; exit status 1.
fn div(a :: Int, b :: Int) -> Int = a / b

fn main() do
  println("before")
  println("${div(1, 0)}")
  println("never")
end
