//! Signals: everything one process (or the runtime) can do to another.
//!
//! Messages, exit signals, link and monitor bookkeeping, DOWN notices and
//! spawn requests all travel as an [`Envelope`] addressed to a pid. Between
//! any two processes they are delivered in the order they were sent,
//! because every path between two schedulers is one FIFO (a scheduler's
//! outbound batch, then the destination's inbound queue), and on one
//! scheduler non-message signals queue behind each other and messages queue
//! behind them while any is pending.

use std::sync::Arc;

use crate::pid::{Pid, Ref};
use crate::process::Process;
use crate::term::Term;

/// How an exit signal was sent; decides how the receiver treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitKind {
    /// A linked process exited. Ignored if the link is gone (unlinked).
    Link,
    /// `exit(pid, reason)` from another process.
    Explicit,
    /// `kill(pid)`: cannot be trapped; the target exits with `killed`.
    Kill,
}

pub(crate) enum Signal {
    Message(Term),
    Exit {
        from: Pid,
        reason: Term,
        kind: ExitKind,
    },
    Link {
        from: Pid,
    },
    Unlink {
        from: Pid,
    },
    Monitor {
        from: Pid,
        mref: Ref,
    },
    Demonitor {
        from: Pid,
        mref: Ref,
    },
    Down {
        mref: Ref,
        from: Pid,
        reason: Term,
    },
    /// Start a process in the slot reserved for it (the envelope's pid).
    Spawn(Box<SpawnRequest>),
    /// The local registry gained `name` for the addressed process.
    NameAdded {
        name: Arc<str>,
    },
}

pub(crate) struct SpawnRequest {
    pub(crate) process: Box<dyn Process>,
    /// Link to this pid as part of the spawn.
    pub(crate) link: Option<Pid>,
    /// Be monitored by (watcher, ref) from the start.
    pub(crate) monitor: Option<(Pid, Ref)>,
}

pub(crate) struct Envelope {
    pub(crate) to: Pid,
    pub(crate) sig: Signal,
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.sig {
            Signal::Message(_) => "message",
            Signal::Exit { .. } => "exit",
            Signal::Link { .. } => "link",
            Signal::Unlink { .. } => "unlink",
            Signal::Monitor { .. } => "monitor",
            Signal::Demonitor { .. } => "demonitor",
            Signal::Down { .. } => "down",
            Signal::Spawn(_) => "spawn",
            Signal::NameAdded { .. } => "name-added",
        };
        write!(f, "Envelope({kind} -> {})", self.to)
    }
}

/// What travels through an inbound queue: one envelope from an outside
/// thread, or a scheduler's whole outbound batch for this destination.
#[derive(Debug)]
pub(crate) enum Batch {
    One(Envelope),
    Many(Vec<Envelope>),
}
