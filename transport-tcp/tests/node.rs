//! The node conformance suite from `mesh_core::node::testkit` (several
//! nodes in one process on loopback, TLS, the cookie handshake, remote
//! processes, bad input), run over the TCP transport.

use std::sync::Arc;

use mesh_core::transport::Transport;
use mesh_transport_tcp::TcpTransport;

mesh_core::node_conformance!(|| Arc::new(TcpTransport::new()) as Arc<dyn Transport>);
