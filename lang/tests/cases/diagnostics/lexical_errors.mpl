fn main() do
  let a = 1 ` 2
  let b = 99999999999999999999
  let c = "unterminated
end
