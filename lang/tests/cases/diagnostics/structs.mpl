struct Pt do
  x :: Int
  y :: Int
end

fn main() do
  let a = Pt { x: 1 }
  let b = Pt { x: 1, y: 2, z: 3 }
  let c = b.w
  let d = Nope { x: 1 }
end
