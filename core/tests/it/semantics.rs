//! The failure-semantics table: links, monitors, trap_exit, kill and
//! normal exits, as Erlang defines them.
//!
//! Each row sets up process B's relation to process A (and whether B traps
//! exits), fires one event, and states what B must see: stay alive with no
//! message, stay alive with exactly one message, or exit with a reason.
//! Every row runs twice: with A and B on the same core and on different
//! cores.
//!
//! "B stays alive and got nothing" is checked deterministically: a relay
//! process R on A's core monitors A; after A is gone, R pings B. R's ping
//! travels the same FIFO path as A's exit signal did (same core to same
//! core), so when B forwards the ping, it has already handled the signal.
//! For events where A does not exit, A pings B itself after acting.

use mesh_core::{Cx, NodeId, Pid, Ref, Term, reason};

use crate::harness::{Harness, atom};

#[derive(Clone, Copy, Debug)]
enum Rel {
    None,
    Link,
    LinkThenUnlink,
    Monitor,
    MonitorThenDemonitor,
    TwoMonitors,
}

#[derive(Clone, Debug)]
enum Event {
    /// A's code returns with this exit reason.
    AExits(Term),
    /// A's code panics with this message.
    APanics(&'static str),
    /// Someone outside kills A.
    AKilled,
    /// A sends B an exit signal with this reason.
    AExitSignalsB(Term),
    /// A kills B.
    AKillsB,
    /// B sends itself an exit signal with this reason.
    BExitsSelf(Term),
}

#[derive(Clone, Debug)]
enum Expect {
    /// B alive, no message.
    Alive,
    /// B alive; exactly one `(:EXIT, A, reason)` message.
    Exit(Term),
    /// B alive; `(:DOWN, ref, :process, A, reason)` once per monitor.
    Down(Term),
    /// B exits with this reason.
    Dies(Term),
}

struct Row {
    name: &'static str,
    rel: Rel,
    trap: bool,
    event: Event,
    expect: Expect,
}

fn boom() -> Term {
    atom("boom")
}

fn rows() -> Vec<Row> {
    use Event::*;
    use Expect::*;
    let n = reason::normal;
    vec![
        Row {
            name: "link, A exits normal, B not trapping: nothing",
            rel: Rel::Link,
            trap: false,
            event: AExits(n()),
            expect: Alive,
        },
        Row {
            name: "link, A exits normal, B trapping: EXIT normal",
            rel: Rel::Link,
            trap: true,
            event: AExits(n()),
            expect: Exit(n()),
        },
        Row {
            name: "link, A exits abnormally, B not trapping: B dies with A's reason",
            rel: Rel::Link,
            trap: false,
            event: AExits(boom()),
            expect: Dies(boom()),
        },
        Row {
            name: "link, A exits abnormally, B trapping: EXIT message",
            rel: Rel::Link,
            trap: true,
            event: AExits(boom()),
            expect: Exit(boom()),
        },
        Row {
            name: "link, A panics, B not trapping: B dies with the panic",
            rel: Rel::Link,
            trap: false,
            event: APanics("bad state"),
            expect: Dies(reason::panic("bad state")),
        },
        Row {
            name: "link, A killed, B not trapping: B dies killed",
            rel: Rel::Link,
            trap: false,
            event: AKilled,
            expect: Dies(reason::killed()),
        },
        Row {
            name: "link, A killed, B trapping: EXIT killed",
            rel: Rel::Link,
            trap: true,
            event: AKilled,
            expect: Exit(reason::killed()),
        },
        Row {
            name: "unlinked before A exits abnormally: nothing",
            rel: Rel::LinkThenUnlink,
            trap: false,
            event: AExits(boom()),
            expect: Alive,
        },
        Row {
            name: "unlinked, B trapping: no EXIT message",
            rel: Rel::LinkThenUnlink,
            trap: true,
            event: AExits(boom()),
            expect: Alive,
        },
        Row {
            name: "no relation, A exits abnormally: nothing",
            rel: Rel::None,
            trap: false,
            event: AExits(boom()),
            expect: Alive,
        },
        Row {
            name: "exit(B, normal), B not trapping: ignored",
            rel: Rel::None,
            trap: false,
            event: AExitSignalsB(n()),
            expect: Alive,
        },
        Row {
            name: "exit(B, normal), B trapping: EXIT normal",
            rel: Rel::None,
            trap: true,
            event: AExitSignalsB(n()),
            expect: Exit(n()),
        },
        Row {
            name: "exit(B, boom), B not trapping: B dies",
            rel: Rel::None,
            trap: false,
            event: AExitSignalsB(boom()),
            expect: Dies(boom()),
        },
        Row {
            name: "exit(B, boom), B trapping: EXIT boom",
            rel: Rel::None,
            trap: true,
            event: AExitSignalsB(boom()),
            expect: Exit(boom()),
        },
        Row {
            name: "exit(B, kill), B trapping: B dies killed",
            rel: Rel::None,
            trap: true,
            event: AExitSignalsB(reason::kill()),
            expect: Dies(reason::killed()),
        },
        Row {
            name: "kill(B), B trapping: B dies killed",
            rel: Rel::None,
            trap: true,
            event: AKillsB,
            expect: Dies(reason::killed()),
        },
        Row {
            name: "exit(self, normal): B exits normal",
            rel: Rel::None,
            trap: false,
            event: BExitsSelf(n()),
            expect: Dies(n()),
        },
        Row {
            name: "monitor, A exits normal: DOWN normal",
            rel: Rel::Monitor,
            trap: false,
            event: AExits(n()),
            expect: Down(n()),
        },
        Row {
            name: "monitor, A exits abnormally: DOWN, B unaffected",
            rel: Rel::Monitor,
            trap: false,
            event: AExits(boom()),
            expect: Down(boom()),
        },
        Row {
            name: "monitor, A killed: DOWN killed",
            rel: Rel::Monitor,
            trap: false,
            event: AKilled,
            expect: Down(reason::killed()),
        },
        Row {
            name: "two monitors: two DOWNs",
            rel: Rel::TwoMonitors,
            trap: false,
            event: AExits(boom()),
            expect: Down(boom()),
        },
        Row {
            name: "demonitor before exit: no DOWN",
            rel: Rel::MonitorThenDemonitor,
            trap: false,
            event: AExits(boom()),
            expect: Alive,
        },
    ]
}

fn run_row(row: &Row, cross_core: bool) {
    let label = format!(
        "{} [{}]",
        row.name,
        if cross_core {
            "cross-core"
        } else {
            "same-core"
        }
    );
    let mut h = Harness::new(2);
    let b_core = usize::from(cross_core);
    let a = h.agent(0);
    let b = h.agent(b_core);
    let relay = h.agent(0);
    let watcher = h.agent(1);
    h.watch(watcher, b);
    h.watch(relay, a);
    let trap = row.trap;
    let rel = row.rel;
    let refs: Vec<Ref> = h.call(b, move |cx| {
        cx.trap_exit(trap);
        match rel {
            Rel::None => vec![],
            Rel::Link => {
                cx.link(a);
                vec![]
            }
            Rel::LinkThenUnlink => {
                cx.link(a);
                cx.unlink(a);
                vec![]
            }
            Rel::Monitor => vec![cx.monitor(a)],
            Rel::TwoMonitors => vec![cx.monitor(a), cx.monitor(a)],
            Rel::MonitorThenDemonitor => {
                let r = cx.monitor(a);
                assert!(cx.demonitor(r));
                vec![]
            }
        }
    });
    // The link/monitor signals from B must reach A before A acts.
    h.sync(b);
    h.call(a, |_| ());
    let a_exits = match row.event.clone() {
        Event::AExits(r) => {
            h.exec(a, move |_| Some(r));
            true
        }
        Event::APanics(msg) => {
            h.exec(a, move |_| panic!("{msg}"));
            true
        }
        Event::AKilled => {
            h.handle().kill(a).expect("kill");
            true
        }
        Event::AExitSignalsB(r) => {
            h.exec(a, move |cx| {
                cx.exit(b, r);
                cx.send(b, atom("ping"));
                None
            });
            false
        }
        Event::AKillsB => {
            h.exec(a, move |cx| {
                cx.kill(b);
                cx.send(b, atom("ping"));
                None
            });
            false
        }
        Event::BExitsSelf(r) => {
            h.exec(b, move |cx: &mut Cx<'_>| {
                let me = cx.pid();
                cx.exit(me, r);
                cx.send(me, atom("ping"));
                None
            });
            false
        }
    };
    if a_exits {
        let why = h.exit_reason(relay, a);
        let expected_a = match &row.event {
            Event::AExits(r) => r.clone(),
            Event::APanics(msg) => reason::panic(msg),
            _ => reason::killed(),
        };
        assert_eq!(why, expected_a, "{label}: A's exit reason");
        h.exec(relay, move |cx| {
            cx.send(b, atom("ping"));
            None
        });
    }
    match &row.expect {
        Expect::Dies(r) => {
            let why = h.exit_reason(watcher, b);
            assert_eq!(&why, r, "{label}: B's exit reason");
            let seen = h.drain_from(b);
            assert!(
                !seen.contains(&atom("ping")),
                "{label}: B answered after it should have died"
            );
        }
        expect => {
            let mut seen = Vec::new();
            loop {
                let m = h.expect_from(b);
                if m == atom("ping") {
                    break;
                }
                seen.push(m);
            }
            let want: Vec<Term> = match expect {
                Expect::Alive => vec![],
                Expect::Exit(r) => vec![reason::exit_message(a, r.clone())],
                Expect::Down(r) => refs
                    .iter()
                    .map(|&mref| reason::down_message(mref, a, r.clone()))
                    .collect(),
                Expect::Dies(_) => unreachable!(),
            };
            assert_eq!(seen, want, "{label}: messages B received");
            // B is still alive: it answers a call.
            let me = h.call(b, |cx| cx.pid());
            assert_eq!(me, b);
        }
    }
}

#[test]
fn semantics_table_same_core() {
    for row in rows() {
        run_row(&row, false);
    }
}

#[test]
fn semantics_table_cross_core() {
    for row in rows() {
        run_row(&row, true);
    }
}

#[test]
fn monitoring_a_dead_process_gives_noproc() {
    let mut h = Harness::new(2);
    let a = h.agent(1);
    let b = h.agent(0);
    let w = h.agent(0);
    h.watch(w, a);
    h.exec(a, |_| Some(reason::normal()));
    assert_eq!(h.exit_reason(w, a), reason::normal());
    let r = h.call(b, move |cx| cx.monitor(a));
    assert_eq!(
        h.expect_from(b),
        reason::down_message(r, a, reason::noproc())
    );
}

#[test]
fn linking_to_a_dead_process_gives_noproc() {
    let mut h = Harness::new(2);
    let dead = h.agent(1);
    let w = h.agent(0);
    h.watch(w, dead);
    h.exec(dead, |_| Some(reason::normal()));
    h.exit_reason(w, dead);

    let trapping = h.agent(0);
    h.exec(trapping, move |cx| {
        cx.trap_exit(true);
        cx.link(dead);
        None
    });
    assert_eq!(
        h.expect_from(trapping),
        reason::exit_message(dead, reason::noproc())
    );

    let plain = h.agent(1);
    h.watch(w, plain);
    h.exec(plain, move |cx| {
        cx.link(dead);
        None
    });
    assert_eq!(h.exit_reason(w, plain), reason::noproc());
}

#[test]
fn a_pid_of_an_unknown_scheduler_is_a_dead_process() {
    // `Process.whereis` of a missing name yields such a pid: monitoring or
    // linking to it must fire at once rather than never.
    let mut h = Harness::new(2);
    let ghost = Pid::from_parts(NodeId::LOCAL, u16::MAX, u32::MAX, 0);
    let b = h.agent(0);
    let r = h.call(b, move |cx| cx.monitor(ghost));
    assert_eq!(
        h.expect_from(b),
        reason::down_message(r, ghost, reason::noproc())
    );
    let trapping = h.agent(1);
    h.exec(trapping, move |cx| {
        cx.trap_exit(true);
        cx.link(ghost);
        None
    });
    assert_eq!(
        h.expect_from(trapping),
        reason::exit_message(ghost, reason::noproc())
    );
}

#[test]
fn spawn_link_child_crash_takes_parent_down_and_spawn_monitor_reports() {
    let mut h = Harness::new(2);
    let w = h.agent(0);
    let parent = h.agent(0);
    h.watch(w, parent);
    let (child, mref) = h.call(parent, |cx| {
        cx.trap_exit(false);
        cx.spawn_monitor(mesh_core::process_fn(|_| {
            mesh_core::Step::Exit(Term::atom("child_failed"))
        }))
    });
    assert_eq!(
        h.expect_from(parent),
        reason::down_message(mref, child, Term::atom("child_failed"))
    );
    for core in [0usize, 1] {
        let p = h.agent(core);
        h.watch(w, p);
        h.exec(p, |cx| {
            let opts = mesh_core::SpawnOpts {
                link: true,
                placement: mesh_core::Placement::Core(1),
                monitor: false,
            };
            cx.spawn_with(
                Box::new(mesh_core::process_fn(|_| panic!("child crashed"))),
                opts,
            );
            None
        });
        assert_eq!(h.exit_reason(w, p), reason::panic("child crashed"));
    }
}

#[test]
fn a_dead_process_signals_once() {
    // A linked and monitored process exits; a second exit attempt (kill
    // after death) produces nothing more.
    let mut h = Harness::new(2);
    let a = h.agent(1);
    let b = h.agent(0);
    let mref = h.call(b, move |cx| {
        cx.trap_exit(true);
        cx.link(a);
        cx.monitor(a)
    });
    // b's link and monitor signals leave b's core when its run slice ends;
    // a second round trip through b guarantees they were flushed.
    h.sync(b);
    h.sync(a);
    h.exec(a, |_| Some(boom()));
    let first = h.expect_from(b);
    let second = h.expect_from(b);
    let mut got = vec![first, second];
    got.sort();
    let mut want = vec![
        reason::exit_message(a, boom()),
        reason::down_message(mref, a, boom()),
    ];
    want.sort();
    assert_eq!(got, want);
    // Killing the dead process from its own core emits nothing: the ping
    // sent right after the kill, along the same path, is all B gets.
    let x = h.agent(1);
    h.exec(x, move |cx| {
        cx.kill(a);
        cx.exit(a, boom());
        cx.send(b, atom("ping"));
        None
    });
    assert_eq!(h.expect_from(b), atom("ping"));
    assert!(h.drain_from(b).is_empty());
}
