//! Distribution, sans-IO: node names, the wire encoding of terms and
//! frames. Nothing here opens a socket, spawns a thread or reads a clock;
//! the node driver feeds bytes and time in and takes bytes and effects out.

pub mod frame;
pub mod global;
pub mod handshake;
pub mod heartbeat;
pub mod name;
#[cfg(test)]
mod sim;
pub mod term_codec;
pub mod tls;

pub use name::{Host, NameError, NodeName};
