# Math.abs/min/max take Int or Float only.
fn main() do
  let a = Math.abs("x")
  let b = Math.max([1], [2])
end
