%% Erlang/OTP distribution peers of mesh-perf's remote scenarios.
%%
%% mesh-perf starts a private epmd and two nodes on loopback, `b@127.0.0.1`
%% (started with `-eval 'mesh_perf_dist:serve(["LIFETIME_S"])'`, it only
%% hosts processes that `a` spawns there) and `a@127.0.0.1` (started with
%% `-eval 'mesh_perf_dist:control(["b@127.0.0.1", "CONNECT_TIMEOUT_MS"])'`).
%% Both run over the same carrier: plain TCP or `-proto_dist inet_tls`, and
%% with `-kernel dist_auto_connect never`, so that only `a` connects: in
%% `handshake`, `b`'s `global` would otherwise reconnect by itself between
%% the disconnect and the timed connect.
%%
%% `a` connects to `b`, prints `READY`, then reads one command per line on
%% stdin and runs one repetition of it against `b`:
%%   remote-pingpong N WARMUP   N timed round trips of a 64-byte binary,
%%                              after WARMUP untimed ones
%%   remote-send SIZE N         N one-way SIZE-byte binaries, then one ack
%%   handshake N                N times: disconnect, then time connect_node
%%   remote-spawn N WINDOW      N spawn_request/5 with WINDOW in flight
%%   global-register N          N global:register_name, N unregister_name
%%   stop                       halt `b`, then `a`
%% Each command answers with lines `ROW <scenario> <metric> <value>` (the
%% scenario and metric names and units of mesh-perf's remote rows) and a
%% final `END`; a failure prints `ERR <reason>` before `END`.
-module(mesh_perf_dist).
-export([serve/1, control/1]).
%% Run on `b` by `a`.
-export([pong/0, count/3, nop/0]).

%% ---------------------------------------------------------------- node b

%% Stay up for at most LIFETIME_S seconds, even if mesh-perf dies without
%% stopping us (mesh-perf normally halts us through `a`, or kills us).
serve([LifetimeS]) ->
    timer:sleep(list_to_integer(LifetimeS) * 1000),
    io:format(standard_error, "mesh_perf_dist: lifetime over, halting~n", []),
    halt(2).

pong() ->
    receive
        {From, Bin} -> From ! Bin, pong();
        stop -> ok
    end.

count(0, Parent, Ref) -> Parent ! {Ref, done};
count(N, Parent, Ref) -> receive _ -> count(N - 1, Parent, Ref) end.

nop() -> ok.

idle() -> receive stop -> ok end.

%% ---------------------------------------------------------------- node a

control([PeerS, ConnectTimeoutMsS]) ->
    Peer = list_to_atom(PeerS),
    Deadline = erlang:monotonic_time(millisecond) + list_to_integer(ConnectTimeoutMsS),
    case connect_until(Peer, Deadline) of
        ok ->
            ok = net_kernel:monitor_nodes(true),
            global:sync(),
            out("READY~n", []),
            loop(Peer);
        {error, Why} ->
            out("ERR cannot connect to ~s: ~s~nEND~n", [PeerS, one_line(Why)]),
            halt(1)
    end.

connect_until(Peer, Deadline) ->
    case net_kernel:connect_node(Peer) of
        true -> ok;
        _ ->
            case erlang:monotonic_time(millisecond) > Deadline of
                true -> {error, timeout};
                false -> timer:sleep(20), connect_until(Peer, Deadline)
            end
    end.

out(Fmt, Args) -> io:format(standard_io, Fmt, Args).

one_line(Term) ->
    string:replace(io_lib:format("~0p", [Term]), "\n", " ", all).

row(Scenario, Metric, Value) ->
    out("ROW ~s ~s ~.6f~n", [Scenario, Metric, float(Value)]).

loop(Peer) ->
    case io:get_line(standard_io, "") of
        eof ->
            halt_both(Peer);
        {error, _} ->
            halt_both(Peer);
        Line ->
            case string:lexemes(string:trim(Line), " ") of
                ["stop"] ->
                    halt_both(Peer);
                [Cmd | Args] ->
                    try
                        run(Peer, Cmd, [list_to_integer(A) || A <- Args])
                    catch
                        Class:Reason:Stack ->
                            out("ERR ~s~n", [one_line({Class, Reason, Stack})])
                    end,
                    out("END~n", []),
                    loop(Peer);
                [] ->
                    loop(Peer)
            end
    end.

halt_both(Peer) ->
    _ = erpc:cast(Peer, erlang, halt, [0]),
    %% Give the cast a moment to leave before our own connection goes.
    timer:sleep(50),
    halt(0).

now_ns() -> erlang:monotonic_time(nanosecond).

run(Peer, "remote-pingpong", [N, Warmup]) ->
    Ponger = spawn(Peer, ?MODULE, pong, []),
    Bin = binary:copy(<<7>>, 64),
    _ = ping(Ponger, Bin, Warmup, []),
    Rtts = lists:sort(ping(Ponger, Bin, N, [])),
    Ponger ! stop,
    row("remote-pingpong", "rtt-p50", pct(Rtts, 0.50) / 1000),
    row("remote-pingpong", "rtt-p99", pct(Rtts, 0.99) / 1000);
run(Peer, "remote-send", [Size, N]) ->
    Name = "remote-send-" ++ integer_to_list(Size),
    Ref = make_ref(),
    R = spawn(Peer, ?MODULE, count, [N, self(), Ref]),
    Bin = binary:copy(<<7>>, Size),
    %% spawn/4 to another node waits for its reply, so the receiver exists
    %% before the clock starts.
    T0 = now_ns(),
    send_n(R, Bin, N),
    receive {Ref, done} -> ok after 600000 -> error(no_ack) end,
    T1 = now_ns(),
    Secs = (T1 - T0) / 1.0e9,
    row(Name, "throughput", N / Secs),
    row(Name, "bandwidth", N * Size / Secs / 1.0e9);
run(Peer, "handshake", [N]) ->
    Times = lists:sort([reconnect(Peer) || _ <- lists:seq(1, N)]),
    global:sync(),
    row("handshake", "setup-p50", pct(Times, 0.50) / 1.0e6),
    row("handshake", "setup-p99", pct(Times, 0.99) / 1.0e6);
run(Peer, "remote-spawn", [N, Window]) ->
    T0 = now_ns(),
    InFlight = issue(Peer, min(Window, N)),
    ok = spawn_loop(Peer, N - InFlight, InFlight),
    T1 = now_ns(),
    row("remote-spawn", "rate", N / ((T1 - T0) / 1.0e9));
run(_Peer, "global-register", [N]) ->
    %% global refuses a second name for one pid: one idle process per name.
    Named = [{{mesh_perf_dist, I}, spawn(fun idle/0)} || I <- lists:seq(1, N)],
    T0 = now_ns(),
    [yes = global:register_name(Nm, P) || {Nm, P} <- Named],
    T1 = now_ns(),
    [_ = global:unregister_name(Nm) || {Nm, _} <- Named],
    T2 = now_ns(),
    [P ! stop || {_, P} <- Named],
    row("global-register", "register", N / ((T1 - T0) / 1.0e9)),
    row("global-register", "unregister", N / ((T2 - T1) / 1.0e9));
run(_Peer, Cmd, Args) ->
    error({unknown_command, Cmd, Args}).

pct(Sorted, P) ->
    lists:nth(max(1, ceil(P * length(Sorted))), Sorted).

ping(_, _, 0, Acc) -> Acc;
ping(Ponger, Bin, N, Acc) ->
    T0 = now_ns(),
    Ponger ! {self(), Bin},
    receive Bin -> ok after 10000 -> error(pong_timeout) end,
    T1 = now_ns(),
    ping(Ponger, Bin, N - 1, [T1 - T0 | Acc]).

send_n(_, _, 0) -> ok;
send_n(R, Bin, N) -> R ! Bin, send_n(R, Bin, N - 1).

%% Close the connection, wait until this node has seen it go (and a little
%% longer, so `b` has too), then time a fresh connect: TCP connect, TLS
%% handshake if the carrier is TLS, and the distribution handshake with its
%% cookie challenge, up to `connect_node` returning. Untimed, `b` then
%% answers a call over the new connection, so `b` has finished setting it
%% up before the next disconnect (without this, OTP 25's TLS distribution
%% on `b` crashes in `inet_tls_dist:f_address` on connections closed while
%% it is still finishing them, and after enough of those node `a` died).
reconnect(Peer) ->
    true = erlang:disconnect_node(Peer),
    receive {nodedown, Peer} -> ok after 10000 -> error(no_nodedown) end,
    timer:sleep(5),
    T0 = now_ns(),
    true = net_kernel:connect_node(Peer),
    T1 = now_ns(),
    receive {nodeup, Peer} -> ok after 10000 -> error(no_nodeup) end,
    Peer = erpc:call(Peer, erlang, node, [], 10000),
    T1 - T0.

issue(Peer, K) ->
    [erlang:spawn_request(Peer, ?MODULE, nop, [], [{reply, yes}]) || _ <- lists:seq(1, K)],
    K.

spawn_loop(_Peer, 0, 0) -> ok;
spawn_loop(Peer, Left, InFlight) ->
    receive
        {spawn_reply, _Ref, ok, _Pid} when Left > 0 ->
            _ = erlang:spawn_request(Peer, ?MODULE, nop, [], [{reply, yes}]),
            spawn_loop(Peer, Left - 1, InFlight);
        {spawn_reply, _Ref, ok, _Pid} ->
            spawn_loop(Peer, 0, InFlight - 1);
        {spawn_reply, _Ref, error, Reason} ->
            error({spawn_failed, Reason})
    after 30000 ->
        error(spawn_timeout)
    end.
