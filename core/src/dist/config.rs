//! Distribution settings and the environment variables that set them.
//!
//! | variable | meaning | default | range |
//! |---|---|---|---|
//! | `MESH_MAX_FRAME_BYTES` | largest frame body accepted or sent | 16 MiB | 1 KiB – 1 GiB |
//! | `MESH_HANDSHAKE_TIMEOUT_MS` | limit for TLS + cookie handshake | 5000 | 100 – 600000 |
//! | `MESH_HEARTBEAT_MS`, `MESH_HEARTBEAT_MISSES` | see `heartbeat` | 400 × 4 | |
//!
//! TLS certificates (`MESH_TLS_*`) are read by `tls::TlsConfig::from_env`.
//! Reading the environment is the only I/O here; [`DistConfig::from_lookup`]
//! takes the values from any function, for tests and tools.

use std::time::Duration;

use super::frame::DEFAULT_MAX_FRAME;
use super::handshake::DEFAULT_TIMEOUT;
use super::heartbeat::{HeartbeatConfig, HeartbeatConfigError};

/// Distribution settings of one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DistConfig {
    pub max_frame: usize,
    pub handshake_timeout: Duration,
    pub heartbeat: HeartbeatConfig,
}

impl Default for DistConfig {
    fn default() -> Self {
        DistConfig {
            max_frame: DEFAULT_MAX_FRAME,
            handshake_timeout: DEFAULT_TIMEOUT,
            heartbeat: HeartbeatConfig::default(),
        }
    }
}

/// A distribution setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DistConfigError {
    #[error("{var}={value:?} is not a whole number between {min} and {max}")]
    Invalid {
        var: &'static str,
        value: String,
        min: u64,
        max: u64,
    },
    #[error(transparent)]
    Heartbeat(#[from] HeartbeatConfigError),
}

fn num(var: &'static str, v: &str, min: u64, max: u64) -> Result<u64, DistConfigError> {
    v.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| DistConfigError::Invalid {
            var,
            value: v.to_owned(),
            min,
            max,
        })
}

impl DistConfig {
    /// Defaults overridden by the environment.
    pub fn from_env() -> Result<DistConfig, DistConfigError> {
        DistConfig::from_lookup(|var| std::env::var(var).ok())
    }

    /// Defaults overridden by `lookup(variable name)`.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<DistConfig, DistConfigError> {
        let mut c = DistConfig::default();
        if let Some(v) = lookup("MESH_MAX_FRAME_BYTES") {
            c.max_frame = num("MESH_MAX_FRAME_BYTES", &v, 1 << 10, 1 << 30)? as usize;
        }
        if let Some(v) = lookup("MESH_HANDSHAKE_TIMEOUT_MS") {
            c.handshake_timeout =
                Duration::from_millis(num("MESH_HANDSHAKE_TIMEOUT_MS", &v, 100, 600_000)?);
        }
        c.heartbeat = HeartbeatConfig::from_vars(
            lookup("MESH_HEARTBEAT_MS").as_deref(),
            lookup("MESH_HEARTBEAT_MISSES").as_deref(),
        )?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| owned.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(
            DistConfig::from_lookup(vars(&[])),
            Ok(DistConfig::default())
        );
        let c = DistConfig::from_lookup(vars(&[
            ("MESH_MAX_FRAME_BYTES", "65536"),
            ("MESH_HANDSHAKE_TIMEOUT_MS", "250"),
            ("MESH_HEARTBEAT_MS", "100"),
        ]))
        .expect("valid");
        assert_eq!(c.max_frame, 65536);
        assert_eq!(c.handshake_timeout, Duration::from_millis(250));
        assert_eq!(c.heartbeat.interval, Duration::from_millis(100));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("MESH_MAX_FRAME_BYTES", "12"),
            ("MESH_MAX_FRAME_BYTES", "lots"),
            ("MESH_HANDSHAKE_TIMEOUT_MS", "0"),
            ("MESH_HEARTBEAT_MISSES", "0"),
        ] {
            let e = DistConfig::from_lookup(vars(&[(var, value)])).expect_err("invalid");
            assert!(e.to_string().starts_with(var), "{e}");
        }
    }
}
