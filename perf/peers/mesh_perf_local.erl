%% Erlang/OTP peers of mesh-perf's single-node scenarios.
%%
%% Run by mesh-perf as
%%   erl -noshell [+S 1] -pa DIR -eval 'mesh_perf_local:main(["SCENARIO","REPS","SIZE"...])'
%% Each repetition prints one line per metric:
%%   ROW <scenario> <metric> <value>
%% with the same scenario/metric names and units as mesh-perf's own rows.
-module(mesh_perf_local).
-export([main/1]).

main([Scenario, RepsS | Args]) ->
    Reps = list_to_integer(RepsS),
    Sizes = [list_to_integer(A) || A <- Args],
    try
        lists:foreach(fun(_) -> run(Scenario, Sizes) end, lists:seq(1, Reps)),
        halt(0)
    catch
        Class:Reason:Stack ->
            io:format(standard_error, "peer failed: ~p:~p ~p~n", [Class, Reason, Stack]),
            halt(1)
    end.

row(Scenario, Metric, Value) ->
    io:format("ROW ~s ~s ~.6f~n", [Scenario, Metric, float(Value)]).

%% spawn N idle processes from one process; rate and bytes per process.
run("spawn", [N]) ->
    erlang:garbage_collect(),
    Before = erlang:memory(processes),
    T0 = erlang:monotonic_time(nanosecond),
    Pids = spawn_n(N, []),
    T1 = erlang:monotonic_time(nanosecond),
    After = erlang:memory(processes),
    row("spawn", "rate", N / ((T1 - T0) / 1.0e9)),
    row("spawn", "memory", (After - Before) / N),
    Refs = [monitor(process, P) || P <- Pids],
    [P ! stop || P <- Pids],
    [receive {'DOWN', R, process, _, _} -> ok end || R <- Refs],
    ok;
run("send-local", [N]) -> send("send-local", N);
run("send-cross", [N]) -> send("send-cross", N);
run("pingpong-local", [N]) -> pingpong("pingpong-local", N);
run("pingpong-cross", [N]) -> pingpong("pingpong-cross", N);
run("ring", [Procs, Laps]) ->
    Self = self(),
    Hops = Procs * Laps,
    First = build_ring(Procs - 1, Self, Procs),
    T0 = erlang:monotonic_time(nanosecond),
    First ! Hops - 1,
    T1 = ring_root(First, Procs),
    row("ring", "hops", Hops / ((T1 - T0) / 1.0e9)),
    ok.

spawn_n(0, Acc) -> Acc;
spawn_n(N, Acc) ->
    P = spawn(fun() -> receive stop -> ok end end),
    spawn_n(N - 1, [P | Acc]).

send(Name, N) ->
    Self = self(),
    R = spawn(fun() -> recv_loop(N, Self) end),
    T0 = erlang:monotonic_time(nanosecond),
    send_loop(R, 0, N),
    T1 = receive {done, T} -> T end,
    row(Name, "throughput", N / ((T1 - T0) / 1.0e9)).

send_loop(_, N, N) -> ok;
send_loop(R, I, N) -> R ! I, send_loop(R, I + 1, N).

recv_loop(0, Parent) -> Parent ! {done, erlang:monotonic_time(nanosecond)};
recv_loop(N, Parent) -> receive _ -> recv_loop(N - 1, Parent) end.

pingpong(Name, N) ->
    Ponger = spawn(fun pong/0),
    Warm = 1000,
    _ = ping(Ponger, Warm, []),
    Rtts = lists:sort(ping(Ponger, N, [])),
    Ponger ! stop,
    Len = length(Rtts),
    P50 = lists:nth(max(1, ceil(0.50 * Len)), Rtts),
    P99 = lists:nth(max(1, ceil(0.99 * Len)), Rtts),
    row(Name, "rtt-p50", P50 / 1000),
    row(Name, "rtt-p99", P99 / 1000).

ping(_, 0, Acc) -> Acc;
ping(Ponger, N, Acc) ->
    T0 = erlang:monotonic_time(nanosecond),
    Ponger ! {self(), N},
    receive N -> ok end,
    T1 = erlang:monotonic_time(nanosecond),
    ping(Ponger, N - 1, [T1 - T0 | Acc]).

pong() ->
    receive
        {From, N} -> From ! N, pong();
        stop -> ok
    end.

%% Members forward K-1 to Next; whoever gets 0 reports to the root.
build_ring(0, Next, _) -> Next;
build_ring(I, Next, Procs) ->
    Root = self(),
    P = spawn(fun() -> member(Next, Root, Procs) end),
    build_ring(I - 1, P, Procs).

%% A member leaves once the token it forwards is in its final lap
%% (K < Procs: it will not see the token again), so no process outlives
%% the repetition.
member(Next, Root, Procs) ->
    receive
        0 -> Root ! {ring_done, erlang:monotonic_time(nanosecond)};
        K when K < Procs -> Next ! K - 1;
        K -> Next ! K - 1, member(Next, Root, Procs)
    end.

ring_root(First, Procs) ->
    receive
        0 -> erlang:monotonic_time(nanosecond);
        {ring_done, T} -> T;
        K when is_integer(K), K < Procs -> First ! K - 1, receive {ring_done, T} -> T end;
        K when is_integer(K) -> First ! K - 1, ring_root(First, Procs)
    end.
