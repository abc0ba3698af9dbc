# Every assertion form, passing and failing.

fn double(x :: Int) -> Int = x * 2

setup do
  let base = 10
end

test("assert passes") do
  assert double(2) == 4
end

test("assert fails with the expression") do
  assert double(2) == 5
end

test("setup bindings are in scope") do
  assert_eq(base + 1, 11)
end

test("assert_eq shows left and right") do
  assert_eq(double(base), 21)
end

test("assert_eq quotes strings") do
  assert_eq("a b", "a  b")
end

test("assert_ne passes on different values") do
  assert_ne([1, 2], [2, 1])
end

test("assert_ne fails on equal values") do
  assert_ne(Some(1), Some(1))
end

test("a crash names its line") do
  let xs = [1, 2, 3]
  println("before the crash")
  let i = 7
  xs[i]
end

test("flunk fails with its message") do
  flunk("not written yet")
end

describe("assert_raises") do
  test("passes when the block fails") do
    assert_raises do
      let zero = 0
      10 / zero
    end
  end

  test("fails when the block finishes") do
    assert_raises do
      double(1)
    end
  end
end

describe("assert_receive") do
  setup do
    let me = self()
  end

  test("binds what the pattern names") do
    send(me, (:pong, 42))
    assert_receive (:pong, n), 500
    assert_eq(n, 42)
  end

  test("fails after the timeout") do
    send(me, :other)
    assert_receive :pong, 50
  end

  test("guards filter messages") do
    send(me, 1)
    send(me, 5)
    assert_receive n when n > 3
    assert_eq(n, 5)
  end
end
