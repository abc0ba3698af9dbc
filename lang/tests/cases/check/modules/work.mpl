pub type Shape do
  Dot
  Circle(Float)
end

@cluster(3) pub fn add(a :: Int, b :: Int) -> Int = helper(a) + b

fn helper(x) = x
