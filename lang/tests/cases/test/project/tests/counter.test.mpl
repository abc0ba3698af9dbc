import Counter

test("a test file imports the project's modules") do
  assert_eq(Counter.total([1, 2, 3]), 6)
end

test("actors started by a test are stopped after it") do
  let pid = spawn(Counter.echo)
  send(pid, (self(), "hi"))
  assert_receive (:echo, reply), 1000
  assert_eq(reply, "hi")
end
