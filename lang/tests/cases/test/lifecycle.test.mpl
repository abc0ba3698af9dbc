# Setup and teardown order, groups, and output of failing tests.

setup do
  println("outer setup")
end

teardown do
  println("outer teardown")
end

test("top level") do
  assert true
end

test "without parentheses" do
  assert_eq(1 + 1, 2)
end

describe("group") do
  setup do
    let n = 2
    println("group setup")
  end

  teardown do
    println("group teardown")
    flunk("teardown failed")
  end

  test("inner") do
    assert n == 2
  end

  describe("nested") do
    test("deep") do
      assert_eq(n * n, 5)
    end
  end
end
