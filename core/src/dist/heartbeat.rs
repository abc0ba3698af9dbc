//! Failure detection on one link: heartbeats out, silence in.
//!
//! Any bytes received count as a sign of life. When nothing has been sent
//! for one `interval`, a heartbeat frame is due (so an idle link still
//! carries traffic both ways); when nothing has been received for
//! `interval × misses`, the peer is declared down. The driver asks
//! [`FailureDetector::next_deadline`] when to call [`FailureDetector::poll`]
//! again, so detection happens at the deadline, not at a tick boundary.
//!
//! Defaults: 400 ms × 4 misses, so a silent peer (partition: no bytes, no
//! FIN) is declared down 1.6 s after its last byte — inside the 2 s the
//! distribution contract promises, with room for scheduling delay. EOF and
//! resets do not wait for this: the transport reports them at once.

use std::time::{Duration, Instant};

/// Heartbeat timing for every link of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatConfig {
    pub interval: Duration,
    pub misses: u32,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        HeartbeatConfig {
            interval: Duration::from_millis(400),
            misses: 4,
        }
    }
}

/// A heartbeat setting from the environment that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeartbeatConfigError {
    #[error("{var}={value:?} is not a whole number between {min} and {max}")]
    Invalid {
        var: &'static str,
        value: String,
        min: u64,
        max: u64,
    },
}

impl HeartbeatConfig {
    /// Silence after which a peer is declared down.
    pub fn timeout(&self) -> Duration {
        self.interval * self.misses
    }

    /// Defaults overridden by `MESH_HEARTBEAT_MS` (10–60000) and
    /// `MESH_HEARTBEAT_MISSES` (1–100).
    pub fn from_env() -> Result<HeartbeatConfig, HeartbeatConfigError> {
        Self::from_vars(
            std::env::var("MESH_HEARTBEAT_MS").ok().as_deref(),
            std::env::var("MESH_HEARTBEAT_MISSES").ok().as_deref(),
        )
    }

    /// `from_env` with the values passed in (for tests and tools).
    pub fn from_vars(
        ms: Option<&str>,
        misses: Option<&str>,
    ) -> Result<HeartbeatConfig, HeartbeatConfigError> {
        fn num(
            var: &'static str,
            v: &str,
            min: u64,
            max: u64,
        ) -> Result<u64, HeartbeatConfigError> {
            v.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| HeartbeatConfigError::Invalid {
                    var,
                    value: v.to_owned(),
                    min,
                    max,
                })
        }
        let mut c = HeartbeatConfig::default();
        if let Some(v) = ms {
            c.interval = Duration::from_millis(num("MESH_HEARTBEAT_MS", v, 10, 60_000)?);
        }
        if let Some(v) = misses {
            c.misses = num("MESH_HEARTBEAT_MISSES", v, 1, 100)? as u32;
        }
        Ok(c)
    }
}

/// What the driver should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Nothing,
    /// Send a heartbeat frame (then call `on_sent`).
    SendHeartbeat,
    /// The peer has been silent too long: close the link, run nodedown.
    Down {
        silent_for: Duration,
    },
}

/// The detector of one link.
#[derive(Debug, Clone)]
pub struct FailureDetector {
    cfg: HeartbeatConfig,
    last_recv: Instant,
    last_send: Instant,
}

impl FailureDetector {
    pub fn new(cfg: HeartbeatConfig, now: Instant) -> FailureDetector {
        FailureDetector {
            cfg,
            last_recv: now,
            last_send: now,
        }
    }

    /// Bytes arrived from the peer.
    pub fn on_received(&mut self, now: Instant) {
        self.last_recv = self.last_recv.max(now);
    }

    /// Bytes were sent to the peer (a heartbeat or anything else).
    pub fn on_sent(&mut self, now: Instant) {
        self.last_send = self.last_send.max(now);
    }

    pub fn poll(&self, now: Instant) -> Action {
        let silent_for = now.saturating_duration_since(self.last_recv);
        if silent_for >= self.cfg.timeout() {
            Action::Down { silent_for }
        } else if now.saturating_duration_since(self.last_send) >= self.cfg.interval {
            Action::SendHeartbeat
        } else {
            Action::Nothing
        }
    }

    /// When `poll` may next return something other than `Nothing`.
    pub fn next_deadline(&self) -> Instant {
        (self.last_send + self.cfg.interval).min(self.last_recv + self.cfg.timeout())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn defaults_detect_silence_within_two_seconds() {
        let c = HeartbeatConfig::default();
        assert!(c.timeout() < Duration::from_secs(2));
        assert_eq!(HeartbeatConfig::from_vars(None, None), Ok(c));
    }

    #[test]
    fn environment_overrides_and_rejects_nonsense() {
        let c = HeartbeatConfig::from_vars(Some("100"), Some("3")).expect("valid");
        assert_eq!(c.timeout(), 300 * MS);
        for (ms, misses, var) in [
            (Some("0"), None, "MESH_HEARTBEAT_MS"),
            (Some("fast"), None, "MESH_HEARTBEAT_MS"),
            (None, Some("0"), "MESH_HEARTBEAT_MISSES"),
            (None, Some("-2"), "MESH_HEARTBEAT_MISSES"),
        ] {
            let e = HeartbeatConfig::from_vars(ms, misses).expect_err("invalid");
            assert!(e.to_string().starts_with(var), "{e}");
        }
    }

    #[test]
    fn idle_link_heartbeats_and_silent_peer_goes_down_at_the_deadline() {
        let cfg = HeartbeatConfig {
            interval: 100 * MS,
            misses: 3,
        };
        let t0 = Instant::now();
        let mut d = FailureDetector::new(cfg, t0);
        assert_eq!(d.poll(t0 + 99 * MS), Action::Nothing);
        assert_eq!(d.next_deadline(), t0 + 100 * MS);
        assert_eq!(d.poll(t0 + 100 * MS), Action::SendHeartbeat);
        d.on_sent(t0 + 100 * MS);
        d.on_received(t0 + 150 * MS);
        // Peer goes silent after 150 ms: down exactly 300 ms later.
        let mut now = t0 + 150 * MS;
        let mut downs = None;
        for _ in 0..100 {
            now = d.next_deadline();
            match d.poll(now) {
                Action::SendHeartbeat => d.on_sent(now),
                Action::Down { silent_for } => {
                    downs = Some(silent_for);
                    break;
                }
                Action::Nothing => {}
            }
        }
        assert_eq!(downs, Some(300 * MS));
        assert_eq!(now, t0 + 450 * MS);
    }

    proptest! {
        /// However traffic is spaced, a peer is never declared down while
        /// it has spoken within the timeout, and always by timeout after
        /// its last byte.
        #[test]
        fn down_iff_silent_past_the_timeout(gaps in proptest::collection::vec(0u64..500, 1..50)) {
            let cfg = HeartbeatConfig { interval: 100 * MS, misses: 3 };
            let t0 = Instant::now();
            let mut d = FailureDetector::new(cfg, t0);
            let mut now = t0;
            let mut last = t0;
            for g in gaps {
                let arrival = now + Duration::from_millis(g);
                // Drive the detector up to the next arrival.
                loop {
                    let at = d.next_deadline();
                    if at > arrival { break; }
                    match d.poll(at) {
                        Action::Down { silent_for } => {
                            prop_assert!(at.duration_since(last) >= cfg.timeout());
                            prop_assert_eq!(silent_for, at.duration_since(last));
                            return Ok(());
                        }
                        Action::SendHeartbeat => d.on_sent(at),
                        Action::Nothing => {}
                    }
                }
                // Reaching the arrival means no Down fired: the gap was short.
                prop_assert!(g < 300, "silence of {} ms went undetected", g);
                d.on_received(arrival);
                last = arrival;
                now = arrival;
            }
        }
    }
}
