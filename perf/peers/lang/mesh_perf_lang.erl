%% lang-* peers: the same programs as perf/peers/lang/*.mpl, each timed
%% inside the VM (so `erl` start-up is excluded). Prints
%% "RESULT <value> <milliseconds>" per repetition.
-module(mesh_perf_lang).
-export([main/1, waiter/1, ring_node/1, last/1]).

main([Scenario, Reps | Args]) ->
    N = [list_to_integer(A) || A <- Args],
    [run(Scenario, N) || _ <- lists:seq(1, list_to_integer(Reps))],
    halt(0).

run(Scenario, Args) ->
    T0 = erlang:monotonic_time(microsecond),
    R = scenario(Scenario, Args),
    T1 = erlang:monotonic_time(microsecond),
    io:format("RESULT ~p ~.3f~n", [R, (T1 - T0) / 1000]).

scenario("lang-fib", [N]) -> fib(N);
scenario("lang-loop", [N]) -> loop(N, 0);
scenario("lang-list", [N]) ->
    Xs = lists:seq(0, N - 1),
    Ys = lists:map(fun(X) -> X * 3 end, Xs),
    Zs = lists:filter(fun(X) -> X rem 2 == 0 end, Ys),
    lists:foldl(fun(X, Acc) -> Acc + X end, 0, Zs);
scenario("lang-actors", [N]) ->
    Me = self(),
    Pids = [spawn(?MODULE, waiter, [Me]) || _ <- lists:seq(1, N)],
    [P ! 1 || P <- Pids],
    collect(N, 0);
scenario("lang-ring", [P, Laps]) ->
    Me = self(),
    Tail = spawn(?MODULE, last, [Me]),
    Nodes = [spawn(?MODULE, ring_node, [Me]) || _ <- lists:seq(1, P - 1)],
    Nexts = tl(Nodes) ++ [Tail],
    [A ! {next, B} || {A, B} <- lists:zip(Nodes, Nexts)],
    Tail ! {next, hd(Nodes)},
    hd(Nodes) ! (P - 1 + (Laps - 1) * P),
    receive done -> ok end,
    receive stopped -> ok end,
    P * Laps.

fib(N) when N < 2 -> N;
fib(N) -> fib(N - 1) + fib(N - 2).

loop(0, Acc) -> Acc;
loop(I, Acc) -> loop(I - 1, (Acc + I * 3) rem 1000003).

waiter(Main) -> receive K -> Main ! K end.

collect(0, Sum) -> Sum;
collect(N, Sum) -> receive K -> collect(N - 1, Sum + K) end.

ring_node(Next) ->
    receive
        {next, Pid} -> ring_node(Pid);
        K when K < 0 -> Next ! K;
        K -> Next ! K - 1, ring_node(Next)
    end.

last(Main) -> receive {next, Pid} -> last_loop(Main, Pid) end.

last_loop(Main, Next) ->
    receive
        K when is_integer(K), K < 0 -> Main ! stopped;
        0 -> Main ! done, Next ! -1, last_loop(Main, Next);
        K -> Next ! K - 1, last_loop(Main, Next)
    end.
