# In a parameter, `::` then a lowercase name, `_` or a list pattern is a
# cons pattern (as upstream); `::` then a type is an annotation.
fn len([]) = 0
fn len(_ :: rest) = 1 + len(rest)

fn first_two(a :: b :: _) = (a, b)
fn first_two(_) = (0, 0)

fn starts_with_one(1 :: [2]) = "one, two"
fn starts_with_one(h :: t :: List<Int>) = "starts with ${h}, then ${t}"
fn starts_with_one(_ :: List<Int>) = "empty"

fn total(xs :: List<Int>, acc :: Int) -> Int do
  case xs do
    [] -> acc
    h :: t -> total(t, acc + h)
  end
end

fn main() do
  println("${len([1, 2, 3])} ${first_two([7, 8, 9])} ${first_two([1])}")
  println("${starts_with_one([1, 2])} | ${starts_with_one([5, 6])} | ${starts_with_one([])}")
  let f = fn (h :: _) -> h | [] -> -1 end
  println("${total([1, 2, 3], 0)} ${f([4])} ${f([])}")
end
