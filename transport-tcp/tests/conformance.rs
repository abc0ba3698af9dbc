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

/// A local close flushes first, but a peer that stopped reading cannot make
/// it hang: the stalled write times out and the close completes.
#[test]
fn closing_a_connection_to_a_peer_that_stopped_reading_completes() {
    use std::time::Duration;

    use mesh_core::transport::{CloseReason, Transport};

    let t = TcpTransport::new().with_write_stall(Duration::from_millis(200));
    let sink = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let rec = testkit::Recorder::new();
    let r = rec.clone();
    let conn = t
        .connect(
            sink.local_addr().expect("addr"),
            testkit::WAIT,
            Box::new(move |_| r.receiver()),
        )
        .expect("connect");
    let (_held, _) = sink.accept().expect("accept");
    // Fill the socket buffers and some of our queue, then close.
    let chunk = vec![1u8; 1 << 20];
    for _ in 0..32 {
        conn.send(&[&chunk]).expect("under the send limit");
    }
    conn.close();
    assert!(
        rec.wait_for(|_, closed| !closed.is_empty()),
        "close never completed"
    );
    assert_eq!(rec.closed(), vec![CloseReason::Local]);
}
