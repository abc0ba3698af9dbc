# Two-node test of services and process primitives across nodes:
#   services serve NAME COOKIE        runs a Counter service and a supervisor,
#                                     registered globally as "counter" and "sup"
#   services probe NAME COOKIE PEER   calls and casts the remote service, then
#                                     calls it again after its node is killed
service Counter do
  fn init(start :: Int) -> Int do
    start
  end

  call Get() :: Int do |s|
    (s, s)
  end

  call Add(n :: Int) :: Int do |s|
    (s + n, s + n)
  end

  cast Reset() do |_s|
    0
  end
end

fn serve(me :: String, cookie :: String) do
  case Node.start(me, cookie) do
    Ok(_) -> println("node ${Node.self()}")
    Err(e) -> println("start failed: ${e}")
  end
  let c = Counter.start(40)
  println("counter ${Global.register("counter", c)}")
  receive do
    :stop -> ()
  end
end

fn wait_for(name :: String, tries :: Int) -> Bool do
  if Global.whereis(name) != Global.whereis("") do
    true
  else if tries == 0 do
    false
  else
    Timer.sleep(20)
    wait_for(name, tries - 1)
  end
end

fn call_get(c) do
  Counter.get(c)
end

fn down(pid) do
  receive do
    (:DOWN, _, :process, p, why) when p == pid -> why
  end
end

fn probe(me :: String, cookie :: String, peer :: String) do
  println("started ${Result.is_ok(Node.start(me, cookie))}")
  println("connect ${Node.connect(peer)}")
  Node.monitor(peer)
  println("counter visible: ${wait_for("counter", 500)}")
  let c = Global.whereis("counter")
  println("remote alive: ${Process.is_alive(c)}")
  println("get: ${Counter.get(c)}")
  println("add: ${Counter.add(c, 2)}")
  Counter.reset(c)
  println("after reset: ${Counter.get(c)}")
  println("kill the peer now")
  receive do
    (:nodedown, name) -> println("nodedown for the peer: ${name == peer}")
  after 20000 ->
    println("no nodedown")
  end
  println("remote alive after nodedown: ${Process.is_alive(c)}")
  let caller = spawn(call_get, c)
  let _ = Process.monitor(caller)
  # The reason names the call and says why; its file path is the build's.
  let why = "${down(caller)}"
  println("caller failed naming the call: ${String.contains(why, "main.mpl:48: call to `Counter.get` failed: the service's node is unreachable (noconnection)")}")
end

fn main() do
  let args = Env.args()
  let me = List.get(args, 1)
  let cookie = List.get(args, 2)
  case List.head(args) do
    "serve" -> serve(me, cookie)
    _ -> probe(me, cookie, List.get(args, 3))
  end
end
