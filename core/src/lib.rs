//! `mesh-core`: the Mesh node runtime.
//!
//! Thread-per-core schedulers pinned to cores, each owning its processes
//! (resumable state machines with a reduction budget), their mailboxes, a
//! run queue and a timer wheel. Processes exchange immutable, reference-
//! counted [`Term`]s, link and monitor each other with Erlang's failure
//! semantics, and register local names.
//!
//! ```
//! use mesh_core::{Config, Flow, Runtime, Term, actor_fn};
//!
//! let rt = Runtime::start(Config::default().with_schedulers(2)).unwrap();
//! let echo = rt.handle().spawn(actor_fn(|cx, msg| {
//!     if let Some([Term::Pid(from), body]) = msg.as_tuple() {
//!         cx.send(*from, body.clone());
//!     }
//!     Flow::stop_normal()
//! })).unwrap();
//! rt.handle().send(echo, Term::Int(1)).unwrap(); // not a tuple: ignored, echo exits
//! rt.wait(None);
//! rt.shutdown();
//! ```
//!
//! See `shared/DESIGN.md` for the architecture this crate implements.

pub mod affinity;
pub mod atom;
pub mod config;
pub mod context;
pub mod dist;
pub mod inbound;
mod mailbox;
#[cfg(not(loom))]
pub mod node;
pub mod pid;
pub mod process;
pub mod registry;
pub mod runtime;
mod scheduler;
mod signal;
mod sync;
pub mod term;
pub mod timer;
pub mod transport;

pub use atom::Atom;
pub use config::{Config, ConfigError};
pub use context::{Cx, Received, TimerRef};
pub use pid::{NodeId, Pid, Ref};
pub use process::{
    Actor, ActorProcess, Flow, Placement, Process, SpawnOpts, Step, actor_fn, process_fn, reason,
    receive_once,
};
pub use registry::{LocalRegistry, RegisterError, SharedRegistry};
pub use runtime::{HandleError, Runtime, RuntimeHandle, StartError, WaitOutcome};
pub use term::{List, Opaque, Struct, Term, Variant};
