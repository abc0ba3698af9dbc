//! Node names: `name@host:port`.
//!
//! `name` is 1–64 characters of ASCII letters, digits, `_`, `-` and `.`;
//! `host` is a DNS name, an IPv4 address, or an IPv6 address in brackets
//! (`app@[::1]:4000`); `port` is 0–65535, where 0 (only meaningful when
//! starting a node) asks the OS for a free port and the node then reports
//! the real one. The parsed form keeps the text the user wrote, so a name
//! displays exactly as it was given (with the port filled in).

use std::fmt;
use std::net::IpAddr;

/// A parsed node name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeName {
    name: String,
    host: Host,
    port: u16,
}

/// The host part of a node name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    Ip(IpAddr),
    Dns(String),
}

/// Why a node name was refused. Each message says what a valid one is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("node name {0:?} has no `@`: write it as name@host:port, e.g. app@127.0.0.1:4000")]
    MissingAt(String),
    #[error("node name {0:?} has an empty name before `@`")]
    EmptyName(String),
    #[error(
        "node name {text:?}: the name part may only hold letters, digits, `_`, `-` and `.` (found {found:?})"
    )]
    BadNameChar { text: String, found: char },
    #[error("node name {0:?}: the name part is longer than 64 characters")]
    NameTooLong(String),
    #[error("node name {0:?} has no port: write it as name@host:port")]
    MissingPort(String),
    #[error("node name {text:?}: {port:?} is not a port number (0-65535)")]
    BadPort { text: String, port: String },
    #[error("node name {0:?} has an empty host")]
    EmptyHost(String),
    #[error(
        "node name {text:?}: {host:?} is not a valid host (DNS name, IPv4, or IPv6 in brackets)"
    )]
    BadHost { text: String, host: String },
}

const MAX_NAME: usize = 64;

impl NodeName {
    /// Parse `name@host:port`.
    pub fn parse(text: &str) -> Result<NodeName, NameError> {
        let owned = || text.to_owned();
        let (name, rest) = text
            .split_once('@')
            .ok_or_else(|| NameError::MissingAt(owned()))?;
        if name.is_empty() {
            return Err(NameError::EmptyName(owned()));
        }
        if name.len() > MAX_NAME {
            return Err(NameError::NameTooLong(owned()));
        }
        if let Some(found) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        {
            return Err(NameError::BadNameChar {
                text: owned(),
                found,
            });
        }
        let (host_text, port_text) = if let Some(inner) = rest.strip_prefix('[') {
            let (h, after) = inner.split_once(']').ok_or_else(|| NameError::BadHost {
                text: owned(),
                host: rest.to_owned(),
            })?;
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| NameError::MissingPort(owned()))?;
            let ip: std::net::Ipv6Addr = h.parse().map_err(|_| NameError::BadHost {
                text: owned(),
                host: h.to_owned(),
            })?;
            (Host::Ip(IpAddr::V6(ip)), port)
        } else {
            let (h, port) = rest
                .rsplit_once(':')
                .ok_or_else(|| NameError::MissingPort(owned()))?;
            if h.is_empty() {
                return Err(NameError::EmptyHost(owned()));
            }
            if h.contains(':') {
                // An IPv6 address without brackets is ambiguous with the port.
                return Err(NameError::BadHost {
                    text: owned(),
                    host: h.to_owned(),
                });
            }
            let host = match h.parse::<std::net::Ipv4Addr>() {
                Ok(ip) => Host::Ip(IpAddr::V4(ip)),
                Err(_) if valid_dns(h) => Host::Dns(h.to_ascii_lowercase()),
                Err(_) => {
                    return Err(NameError::BadHost {
                        text: owned(),
                        host: h.to_owned(),
                    });
                }
            };
            (host, port)
        };
        let port = port_text
            .parse::<u16>()
            .ok()
            .filter(|_| !port_text.starts_with('+'))
            .ok_or_else(|| NameError::BadPort {
                text: owned(),
                port: port_text.to_owned(),
            })?;
        Ok(NodeName {
            name: name.to_owned(),
            host: host_text,
            port,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The same name with another port (after binding port 0).
    pub fn with_port(&self, port: u16) -> NodeName {
        NodeName {
            port,
            ..self.clone()
        }
    }
}

/// RFC 1123 host names: dot-separated labels of letters, digits and `-`,
/// not starting or ending with `-`, each 1–63 characters, 253 in all.
fn valid_dns(h: &str) -> bool {
    h.len() <= 253
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(IpAddr::V4(ip)) => write!(f, "{ip}"),
            Host::Dns(d) => f.write_str(d),
        }
    }
}

impl fmt::Display for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}:{}", self.name, self.host, self.port)
    }
}

impl std::str::FromStr for NodeName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<NodeName, NameError> {
        NodeName::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn valid_names_parse_and_display_back() {
        for (text, shown) in [
            ("app@localhost:4000", "app@localhost:4000"),
            ("app@LocalHost:4000", "app@localhost:4000"),
            ("w-1.a_b@127.0.0.1:0", "w-1.a_b@127.0.0.1:0"),
            ("db@[::1]:4370", "db@[::1]:4370"),
            ("db@[fe80::1]:65535", "db@[fe80::1]:65535"),
            ("n@node-3.cluster.internal:1", "n@node-3.cluster.internal:1"),
        ] {
            let n = NodeName::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(n.to_string(), shown);
            assert_eq!(NodeName::parse(&n.to_string()), Ok(n));
        }
        let n = NodeName::parse("app@[::1]:0").expect("valid");
        assert_eq!(n.port(), 0);
        assert_eq!(n.with_port(4001).to_string(), "app@[::1]:4001");
        assert_eq!(n.host(), &Host::Ip("::1".parse().expect("ip")));
    }

    #[test]
    fn malformed_names_are_clear_errors() {
        type Check = fn(&NameError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("app", |e| matches!(e, NameError::MissingAt(_))),
            ("@host:1", |e| matches!(e, NameError::EmptyName(_))),
            ("a b@host:1", |e| {
                matches!(e, NameError::BadNameChar { found: ' ', .. })
            }),
            ("app@host", |e| matches!(e, NameError::MissingPort(_))),
            ("app@:4000", |e| matches!(e, NameError::EmptyHost(_))),
            ("app@host:99999", |e| matches!(e, NameError::BadPort { .. })),
            ("app@host:-1", |e| matches!(e, NameError::BadPort { .. })),
            ("app@host:+80", |e| matches!(e, NameError::BadPort { .. })),
            ("app@host:", |e| matches!(e, NameError::BadPort { .. })),
            ("app@::1:4000", |e| matches!(e, NameError::BadHost { .. })),
            ("app@[::1]4000", |e| matches!(e, NameError::MissingPort(_))),
            ("app@[nope]:4000", |e| {
                matches!(e, NameError::BadHost { .. })
            }),
            ("app@[::1:4000", |e| matches!(e, NameError::BadHost { .. })),
            ("app@bad_host:1", |e| matches!(e, NameError::BadHost { .. })),
            ("app@-bad.com:1", |e| matches!(e, NameError::BadHost { .. })),
        ];
        for (text, ok) in cases {
            match NodeName::parse(text) {
                Err(e) => {
                    assert!(ok(&e), "{text}: wrong error {e:?}");
                    assert!(e.to_string().contains(text), "{text}: message {e}");
                }
                Ok(n) => panic!("{text} parsed as {n}"),
            }
        }
        let long = format!("{}@h:1", "a".repeat(65));
        assert!(matches!(
            NodeName::parse(&long),
            Err(NameError::NameTooLong(_))
        ));
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_round_trips(s in "\\PC{0,40}") {
            if let Ok(n) = NodeName::parse(&s) {
                prop_assert_eq!(NodeName::parse(&n.to_string()), Ok(n));
            }
        }
    }
}
