//! Runtime configuration and the environment variables that set it.

use std::time::Duration;

/// How a runtime is started.
#[derive(Debug, Clone)]
pub struct Config {
    /// Scheduler threads, one per core by default (`MESH_SCHEDULERS`).
    pub schedulers: usize,
    /// Pin scheduler `i` to the `i`-th CPU this process may run on.
    pub pin: bool,
    /// How long an idle scheduler spins before it parks. See the
    /// `scheduler` module for the measured trade-off.
    pub spin: Duration,
    /// Reductions a process may use before it must yield.
    pub budget: u32,
}

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error(
        "MESH_SCHEDULERS={value:?} is not a valid scheduler count: {reason} \
         (set it to a whole number from 1 to {max}, or unset it to use one per core)"
    )]
    Schedulers {
        value: String,
        reason: &'static str,
        max: usize,
    },
    #[error("the scheduler count must be from 1 to {max}, got {got}")]
    SchedulerCount { got: usize, max: usize },
    #[error("the reduction budget must be at least 1")]
    Budget,
}

/// The most schedulers a runtime will start (pids hold a 16-bit index).
pub const MAX_SCHEDULERS: usize = 1024;

/// Default spin window of an idle scheduler.
pub const DEFAULT_SPIN: Duration = Duration::from_micros(50);

/// Default reduction budget per run slice.
pub const DEFAULT_BUDGET: u32 = 2000;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Default for Config {
    fn default() -> Config {
        Config {
            schedulers: cores(),
            pin: true,
            spin: DEFAULT_SPIN,
            budget: DEFAULT_BUDGET,
        }
    }
}

impl Config {
    /// The default configuration, with `MESH_SCHEDULERS` applied if set.
    pub fn from_env() -> Result<Config, ConfigError> {
        let mut c = Config::default();
        if let Some(v) = std::env::var_os("MESH_SCHEDULERS") {
            c.schedulers = parse_schedulers(&v.to_string_lossy())?;
        }
        Ok(c)
    }

    pub fn with_schedulers(mut self, n: usize) -> Config {
        self.schedulers = n;
        self
    }

    pub fn with_pinning(mut self, pin: bool) -> Config {
        self.pin = pin;
        self
    }

    pub fn with_spin(mut self, spin: Duration) -> Config {
        self.spin = spin;
        self
    }

    pub fn with_budget(mut self, budget: u32) -> Config {
        self.budget = budget;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.schedulers == 0 || self.schedulers > MAX_SCHEDULERS {
            return Err(ConfigError::SchedulerCount {
                got: self.schedulers,
                max: MAX_SCHEDULERS,
            });
        }
        if self.budget == 0 {
            return Err(ConfigError::Budget);
        }
        Ok(())
    }
}

/// Parse a `MESH_SCHEDULERS` value.
pub fn parse_schedulers(value: &str) -> Result<usize, ConfigError> {
    let err = |reason| ConfigError::Schedulers {
        value: value.to_owned(),
        reason,
        max: MAX_SCHEDULERS,
    };
    let n: usize = value
        .trim()
        .parse()
        .map_err(|_| err("not a whole number"))?;
    if n == 0 {
        return Err(err("at least one scheduler is needed"));
    }
    if n > MAX_SCHEDULERS {
        return Err(err("too many"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_count_parsing() {
        assert_eq!(parse_schedulers("4"), Ok(4));
        assert_eq!(parse_schedulers(" 2 "), Ok(2));
        for bad in ["0", "-1", "two", "", "100000"] {
            let e = parse_schedulers(bad).expect_err(bad);
            let msg = e.to_string();
            assert!(msg.contains("MESH_SCHEDULERS"), "{msg}");
            assert!(msg.contains("whole number from 1 to"), "{msg}");
        }
    }

    #[test]
    fn validation_rejects_zero() {
        assert!(Config::default().with_schedulers(0).validate().is_err());
        assert!(Config::default().with_budget(0).validate().is_err());
        assert!(Config::default().with_schedulers(2).validate().is_ok());
    }
}
