//! The transport conformance suite from `mesh_core::transport::testkit`,
//! run against the TCP transport.

use mesh_core::transport::testkit;
use mesh_transport_tcp::TcpTransport;

const LIMIT: usize = 16 << 20;

#[test]
fn tcp_transport_passes_the_conformance_suite() {
    let t = TcpTransport::new().with_send_limit(LIMIT);
    testkit::run_all(&t, LIMIT);
}
