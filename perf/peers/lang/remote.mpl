# mesh-perf lang-remote-pingpong and lang-remote-send: the remote scenarios
# written in Mesh. One program, two roles (the harness runs both nodes in
# its process and timestamps every line they print):
#   serve NAME COOKIE COUNT HALF          an echo, and a counter that acks
#                                         every HALF messages and prints
#                                         "done" after COUNT
#   pingpong NAME COOKIE PEER N WARMUP    WARMUP untimed round trips of 64
#                                         bytes, "start", then one line per
#                                         timed round trip
#   send NAME COOKIE PEER COUNT WINDOW SIZE
#                                         "start", then COUNT strings of
#                                         SIZE bytes with at most WINDOW
#                                         unacknowledged
actor echo() do
  receive do
    (sender, m) -> send(sender, m)
  end
  echo()
end

# Counts messages; acks when `got` reaches `next` (every `half`, and the
# last one), then prints "done" after `count`.
fn count_loop(sender :: Pid, count :: Int, half :: Int, got :: Int, next :: Int) do
  receive do
    _ -> do
      let g = got + 1
      if g == next do
        send(sender, g)
        if g == count do
          println("done")
        else
          count_loop(sender, count, half, g, Int.min(g + half, count))
        end
      else
        count_loop(sender, count, half, g, next)
      end
    end
  end
end

actor counter(count :: Int, half :: Int) do
  receive do
    sender -> count_loop(sender, count, half, 0, Int.min(half, count))
  end
end

fn serve(me :: String, cookie :: String, count :: Int, half :: Int) do
  Node.start(me, cookie)
  let e = spawn(echo)
  let c = spawn(counter, count, half)
  Global.register("perf_echo", e)
  Global.register("perf_counter", c)
  Global.register("perf_stop", self())
  println("node ${Node.self()}")
  receive do
    :stop -> do
      Process.exit(e, :kill)
      Process.exit(c, :kill)
    end
  end
end

fn await_name(name :: String, tries :: Int) do
  if Global.whereis(name) == Global.whereis("") and tries > 0 do
    Timer.sleep(1)
    await_name(name, tries - 1)
  end
end

fn sized(s :: String, n :: Int) -> String do
  if String.length(s) >= n do
    String.slice(s, 0, n)
  else
    sized(s <> s, n)
  end
end

fn ping(e :: Pid, payload :: String, n :: Int, stamp :: Bool) do
  if n > 0 do
    send(e, (self(), payload))
    receive do
      _ -> ()
    end
    if stamp do
      println(".")
    end
    ping(e, payload, n - 1, stamp)
  end
end

fn burst(c :: Pid, payload :: String, n :: Int) do
  if n > 0 do
    send(c, payload)
    burst(c, payload, n - 1)
  end
end

# Sends what the window allows, then waits for an ack.
fn stream(c :: Pid, payload :: String, count :: Int, window :: Int, sent :: Int, acked :: Int) do
  let room = Int.min(count - sent, window - (sent - acked))
  if room > 0 do
    burst(c, payload, room)
    stream(c, payload, count, window, sent + room, acked)
  else if acked < count do
    receive do
      a -> stream(c, payload, count, window, sent, Int.max(acked, a))
    end
  end
end

fn int_arg(args :: List<String>, i :: Int) -> Int = Option.unwrap(String.to_int(List.get(args, i)))

fn main() do
  let args = Env.args()
  let mode = List.get(args, 0)
  let me = List.get(args, 1)
  let cookie = List.get(args, 2)
  if mode == "serve" do
    serve(me, cookie, int_arg(args, 3), int_arg(args, 4))
  else
    let peer = List.get(args, 3)
    Node.start(me, cookie)
    Node.connect(peer)
    await_name("perf_stop", 5000)
    if mode == "pingpong" do
      let e = Global.whereis("perf_echo")
      let payload = sized("x", 64)
      ping(e, payload, int_arg(args, 5), false)
      println("start")
      ping(e, payload, int_arg(args, 4), true)
    else
      let c = Global.whereis("perf_counter")
      let payload = sized("x", int_arg(args, 6))
      send(c, self())
      println("start")
      stream(c, payload, int_arg(args, 4), int_arg(args, 5), 0, 0)
    end
    send(Global.whereis("perf_stop"), :stop)
  end
end
