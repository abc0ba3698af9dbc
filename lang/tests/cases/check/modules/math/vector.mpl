pub fn dot(a :: (Int, Int), b :: (Int, Int)) -> Int do
  let (x1, y1) = a
  let (x2, y2) = b
  x1 * x2 + y1 * y2
end
