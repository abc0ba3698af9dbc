//! Distribution, sans-IO. Nothing here opens a socket, spawns a thread or
//! reads a clock: the node driver feeds bytes and time in and takes bytes
//! and effects out.
//!
//! What each module owns:
//! * [`name`]: node names `name@host:port`.
//! * [`config`]: settings from the environment (frame limit, timeouts).
//! * [`tls`]: rustls configurations (ephemeral or CA-verified) and the
//!   ciphertext <-> plaintext [`tls::TlsSession`].
//! * [`handshake`]: the cookie handshake inside TLS, and the
//!   one-connection-per-pair rule ([`handshake::admission`]).
//! * [`frame`]: framing after the handshake; [`term_codec`]: terms inside
//!   frames, with pids re-qualified per connection.
//! * [`heartbeat`]: the failure detector of one link.
//! * [`global`]: the replicated global name registry; [`global_view`]: its
//!   copy for lock-light reads from scheduler threads.
//!
//! One link, in order: the transport reports a connection; the driver makes
//! a [`tls::TlsSession`] and moves ciphertext through it; once
//! `!is_handshaking()`, it starts a [`handshake::Handshake`] with the
//! session's `exporter()` and fresh `tls::random_bytes()` nonce, and passes
//! plaintext both ways until `Done` (on the accepting side, answering
//! `Authenticated` with `admission()` over its connection table). Then the
//! link is up: `Established::leftover` goes into a [`frame::FrameDecoder`],
//! a [`heartbeat::FailureDetector`] starts, [`global::GlobalRegistry`]
//! gets `on_peer_up` (its snapshot effect is sent) and a peer list frame
//! goes out. Any error closes that one link; `on_peer_down` and the node's
//! link/monitor cleanup follow. `sim.rs` (tests) drives exactly this.

pub mod config;
pub mod frame;
pub mod global;
pub mod global_view;
pub mod handshake;
pub mod heartbeat;
pub mod name;
#[cfg(test)]
mod sim;
pub mod term_codec;
pub mod tls;

pub use name::{Host, NameError, NodeName};
