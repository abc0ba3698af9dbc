# `?` on an unannotated parameter: the function's return type decides
# whether it is a Result or an Option.
fn bump(r) do
  let v = r?
  Ok(v + 1)
end

fn double(o) do
  let v = o?
  Some(v * 2)
end

fn main() do
  println("${bump(Ok(1))} ${bump(Err("bad"))}")
  println("${double(Some(4))} ${double(None)}")
end
