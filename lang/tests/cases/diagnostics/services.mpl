service Broken do
  call Get() :: Int do |s|
    (s, "not an int")
  end
end

service Counter do
  fn init() -> Int = 0
  cast Bump(n :: Int) do |s|
    s + n
  end
end

fn main() do
  let p = Counter.start()
  Counter.bump(p, "x")
  Counter.nope(p)
end
