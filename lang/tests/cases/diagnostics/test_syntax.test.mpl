test(name) do
  assert true
end

test("dup") do
  assert true
end

test("dup") do
  assert true
end

describe("group") do
  fn helper() = 1
end

setup(1) do
  assert true
end

test("empty assert") do
  assert
end

test("") do
  assert true
end
