//! Drive one side of the cookie handshake with arbitrary peer bytes, cut
//! into arbitrary pieces and arriving at arbitrary times. Nothing may
//! panic, and it must never report success to a peer that did not prove
//! the cookie (the fuzzer cannot forge an HMAC, so `Done` on the acceptor
//! side means a bug).
#![no_main]

use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mesh_core::dist::NodeName;
use mesh_core::dist::handshake::{Admission, Cookie, Handshake, HandshakeConfig, Progress};

#[derive(Debug, Arbitrary)]
struct Input {
    initiator: bool,
    /// (delay in ms, bytes) deliveries.
    chunks: Vec<(u16, Vec<u8>)>,
}

fuzz_target!(|input: Input| {
    let (Ok(me), Ok(peer), Ok(cookie)) = (
        NodeName::parse("me@127.0.0.1:4000"),
        NodeName::parse("peer@127.0.0.1:4001"),
        Cookie::new(b"fuzz-cookie"),
    ) else {
        return;
    };
    let cfg = HandshakeConfig {
        me,
        creation: 1,
        cookie,
        timeout: Duration::from_secs(5),
    };
    let t0 = Instant::now();
    let mut hs = if input.initiator {
        Handshake::initiator(cfg, peer, [3; 32], [4; 32], t0)
    } else {
        Handshake::acceptor(cfg, [3; 32], [4; 32], t0)
    };
    let mut out = Vec::new();
    let mut now = t0;
    for (delay, bytes) in &input.chunks {
        now += Duration::from_millis(u64::from(*delay));
        hs.take_output(&mut out);
        match hs.push_bytes(bytes, now) {
            Ok(Progress::Authenticated { .. }) => {
                // Only a valid proof gets here.
                panic!("a forged proof was accepted");
            }
            Ok(Progress::Done) => panic!("done without the peer proving the cookie"),
            Ok(Progress::Continue) => {}
            Err(_) => {
                hs.take_output(&mut out);
                return;
            }
        }
        if hs.check_deadline(now).is_err() {
            return;
        }
    }
    let _ = hs.admit(Admission::Accept {
        abort_outgoing: false,
    });
    let _ = hs.on_closed();
});
