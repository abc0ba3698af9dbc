# Self tail calls that pass parameters on unchanged (the VM leaves those
# in place), long enough to cross many reduction-budget boundaries, with
# strings, pids and integers, and sends and receives in the loop.
fn count(s :: String, n :: Int, acc :: Int) -> Int do
  if n == 0 do
    acc
  else
    count(s, n - 1, acc + String.length(s))
  end
end

fn swap(a :: String, b :: String, n :: Int) -> String do
  if n == 0 do
    a <> b
  else
    swap(b, a, n - 1)
  end
end

fn pick(s :: String, t :: String, n :: Int) -> String do
  if n == 0 do
    s <> t
  else if n % 3 == 0 do
    pick(s, t, n - 1)
  else
    pick(t <> "", s, n - 1)
  end
end

fn twice(s :: String, t :: String, n :: Int) -> String do
  if n == 0 do
    s <> t
  else
    twice(s, s, n - 1)
  end
end

fn burst(p :: Pid, m :: String, n :: Int) do
  if n > 0 do
    send(p, m)
    burst(p, m, n - 1)
  end
end

fn drain(n :: Int, total :: Int) -> Int do
  if n == 0 do
    total
  else
    receive do
      m -> drain(n - 1, total + String.length(m))
    end
  end
end

fn main() do
  println("${count("abc", 100000, 0)}")
  println(swap("x", "y", 100001))
  println(pick("s", "t", 99998))
  println(twice("a", "b", 100000))
  burst(self(), "hello", 50000)
  println("${drain(50000, 0)}")
end
