# Int and Float operations and conversions.
fn main() do
  println("${7 / 2} ${-7 / 2} ${7 % 3} ${-7 % 3} ${2 * 3 + 4} ${2 * (3 + 4)}")
  println("${7.0 / 2.0} ${1.5 * 2.0} ${0.5 - 1.0} ${10.0 / 4.0}")
  println("${Int.abs(-3)} ${Int.min(2, 9)} ${Int.max(2, 9)} ${Int.to_float(3)}")
  println("${Float.from(42)} ${Float.to_int(3.99)} ${Float.to_int(-3.99)} ${Float.round(2.5)} ${Float.floor(-1.5)} ${Float.ceil(1.2)}")
  println("${Float.sqrt(16.0)} ${Float.sqrt(2.0)} ${1.0 / 3.0} ${100000000000000000000.0 * 10.0}")
  println("${1 < 2} ${2 <= 2} ${3 > 4} ${1.5 >= 1.5} ${1 == 1} ${1 != 1} ${"a" < "b"}")
  println("${not true} ${!false} ${true and false} ${true or false} ${false || true} ${true && true}")
  println("${9223372036854775807} ${-9223372036854775807 - 1}")
end
