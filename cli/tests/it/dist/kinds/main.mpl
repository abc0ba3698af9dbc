# Two-node test: remote spawn with arguments of every type, remote send of
# every value kind (echoed back by the other node), and a closure send
# that must fail in the sender. Run as
#   kinds serve NAME COOKIE          (prints "node <full name>", then serves)
#   kinds probe NAME COOKIE PEER     (the checks; its stdout is compared)
struct Pt do
  x :: Int
  y :: Int
end deriving(Eq, Display)

type Shape do
  Dot
  Circle(Float)
  Rect(Float, Float)
end deriving(Eq, Display)

actor echo() do
  receive do
    (sender, v) -> send(sender, v)
  end
  echo()
end

actor inspect(parent :: Pid, i :: Int, f :: Float, s :: String, b :: Bool, a :: Atom, l :: List<Int>, m :: Map<String, Int>, t :: (Int, String), p :: Pt, sh :: Shape, o :: Option<String>, r :: Result<Int, String>) do
  let line = "${i} ${f} ${s} ${b} ${a} ${l} ${m} ${t} ${p} ${sh} ${o} ${r}"
  send(parent, (Node.self(), line))
end

fn roundtrip(echo :: Pid, v) do
  send(echo, (self(), v))
  receive do
    back -> println("${back} same=${back == v}")
  after 5000 ->
    println("no echo")
  end
end

fn serve(me :: String, cookie :: String) do
  case Node.start(me, cookie) do
    Ok(_) -> println("node ${Node.self()}")
    Err(e) -> println("start failed: ${e}")
  end
  receive do
    :stop -> ()
  end
end

fn probe(me :: String, cookie :: String, peer :: String) do
  let started = Node.start(me, cookie)
  println("started ${Result.is_ok(started)}")
  case Node.connect(peer) do
    Ok(_) -> println("connected")
    Err(e) -> println("connect failed: ${e}")
  end
  println("peers ${Node.list() == [peer]}")
  let w = Node.spawn(peer, inspect, self(), 42, 2.5, "héllo", true, :atom, [1, 2, 3], %{"k" => 7}, (1, "one"), Pt { x: 1, y: 2 }, Rect(1.5, 2.0), Some("x"), Err("bad"))
  receive do
    (node, line) -> println("remote spawn ran on the peer: ${node == peer}; args: ${line}")
  after 5000 ->
    println("no answer from the remote spawn")
  end
  let e = Node.spawn(peer, echo)
  roundtrip(e, 42)
  roundtrip(e, -7.25)
  roundtrip(e, "a string with ünïcode")
  roundtrip(e, false)
  roundtrip(e, :nodedown)
  roundtrip(e, ())
  roundtrip(e, [1, 2, 3])
  roundtrip(e, ["a", "b"])
  roundtrip(e, %{"one" => 1, "two" => 2})
  roundtrip(e, (1, "two", 3.0))
  roundtrip(e, Pt { x: 3, y: 4 })
  roundtrip(e, Circle(2.0))
  roundtrip(e, Dot)
  roundtrip(e, Some([Pt { x: 5, y: 6 }]))
  roundtrip(e, Ok(1))
  roundtrip(e, Set.from_list([3, 1, 2]))
  send(e, (self(), self()))
  receive do
    p -> println("own pid came back: ${p == self()}")
  after 5000 ->
    println("no pid")
  end
  send(e, (self(), e))
  receive do
    p -> println("remote pid came back: ${p == e}")
  after 5000 ->
    println("no pid")
  end
  let k = 1
  if List.head(Env.args()) == "probe_timer" do
    Timer.send_after(e, 10, (self(), [fn x -> x + k end]))
  else
    send(e, (self(), fn x -> x + k end))
  end
  println("not reached")
end

fn main() do
  let args = Env.args()
  let me = List.get(args, 1)
  let cookie = List.get(args, 2)
  case List.head(args) do
    "serve" -> serve(me, cookie)
    # probe_timer: as probe, but the closure goes with Timer.send_after
    _ -> probe(me, cookie, List.get(args, 3))
  end
end
