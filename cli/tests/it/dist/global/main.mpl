# Two-node test of the global registry, node monitors and the cookie:
#   global serve NAME COOKIE        registers "svc" (an actor) and "node_b" (main)
#   global probe NAME COOKIE PEER   watches the names appear and go away
#   global connect NAME COOKIE PEER only connects (used with a wrong cookie)
#   global watch NAME COOKIE PEER   monitors PEER: :nodedown, then :nodeup
#   global spawn_missing NAME COOKIE PEER
#                                   spawns Main.holder on a node of another
#                                   program, which has no such function
actor holder() do
  receive do
    (sender, "ping") -> do
      send(sender, "pong")
      holder()
    end
    :quit -> println("holder quits")
  end
end

fn serve(me :: String, cookie :: String) do
  case Node.start(me, cookie) do
    Ok(_) -> println("node ${Node.self()}")
    Err(e) -> println("start failed: ${e}")
  end
  let h = spawn(holder)
  println("svc ${Global.register("svc", h)}")
  println("node_b ${Global.register("node_b", self())}")
  receive do
    :stop -> ()
  end
end

# Global.whereis of a name nobody holds is a pid that receives nothing;
# every unregistered name gives the same one.
fn registered(name :: String) -> Bool = Global.whereis(name) != Global.whereis("")

fn wait_for(name :: String, want :: Bool, tries :: Int) -> Bool do
  if registered(name) == want do
    true
  else if tries == 0 do
    false
  else
    Timer.sleep(20)
    wait_for(name, want, tries - 1)
  end
end

fn probe(me :: String, cookie :: String, peer :: String) do
  let started = Node.start(me, cookie)
  println("started ${Result.is_ok(started)}")
  println("connect ${Node.connect(peer)}")
  Node.monitor(peer)
  println("svc visible: ${wait_for("svc", true, 500)}")
  let svc = Global.whereis("svc")
  send(svc, (self(), "ping"))
  receive do
    s -> println("svc answered ${s}")
  after 5000 ->
    println("svc did not answer")
  end
  println("a_name ${Global.register("a_name", self())}")
  println("svc taken: ${Result.is_err(Global.register("svc", self()))}")
  Global.unregister("a_name")
  println("a_name gone: ${wait_for("a_name", false, 500)}")
  send(svc, :quit)
  println("svc cleaned after its process exited: ${wait_for("svc", false, 500)}")
  println("node_b visible: ${wait_for("node_b", true, 500)}")
  println("kill the peer now")
  receive do
    (:nodeup, _) -> println("unexpected nodeup")
    (:nodedown, name) -> println("nodedown for the peer: ${name == peer}")
  after 20000 ->
    println("no nodedown")
  end
  println("node_b cleaned after its node died: ${wait_for("node_b", false, 500)}")
  println("peers now: ${Node.list()}")
end

fn connect_only(me :: String, cookie :: String, peer :: String) do
  Node.start(me, cookie)
  case Node.connect(peer) do
    Ok(_) -> println("connected")
    Err(reason) -> println("connect failed: ${reason}")
  end
  println("peers: ${Node.list()}")
end

# Node.spawn of a function the other node's program does not have (run
# against a node of another program): the caller fails, the node lives.
fn spawn_missing(me :: String, cookie :: String, peer :: String) do
  Node.start(me, cookie)
  println("connect ${Node.connect(peer)}")
  Node.spawn(peer, holder)
  println("not reached")
end

# Watches a node go down and come back (the test restarts it).
fn watch(me :: String, cookie :: String, peer :: String) do
  Node.start(me, cookie)
  println("connect ${Node.connect(peer)}")
  Node.monitor(peer)
  println("watching")
  receive do
    (:nodedown, name) -> println("nodedown for the peer: ${name == peer}")
  after 20000 ->
    println("no nodedown")
  end
  receive do
    (:nodeup, name) -> println("nodeup for the peer: ${name == peer}")
  after 20000 ->
    println("no nodeup")
  end
  println("peers again: ${Node.list() == [peer]}")
end

fn main() do
  let args = Env.args()
  let me = List.get(args, 1)
  let cookie = List.get(args, 2)
  case List.head(args) do
    "serve" -> serve(me, cookie)
    "connect" -> connect_only(me, cookie, List.get(args, 3))
    "spawn_missing" -> spawn_missing(me, cookie, List.get(args, 3))
    "watch" -> watch(me, cookie, List.get(args, 3))
    _ -> probe(me, cookie, List.get(args, 3))
  end
end
