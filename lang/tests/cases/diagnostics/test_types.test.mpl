setup do
  let x = "one"
end

test("assert needs a Bool") do
  assert 1
end

test("assert_eq needs one type") do
  assert_eq(1, x)
end

test("names are checked") do
  assert_receive (:ok, v), 100
  assert_eq(v, nope)
end
