//! `Node.start_from_env()`: a node from the `MESH_*` environment, as the
//! clustered scaffold (`shared/seeds/clustered-example.txt`) runs it.
//!
//! | variable | meaning |
//! |---|---|
//! | `MESH_CLUSTER_COOKIE` | the shared cookie; unset or empty: standalone mode (no node, no listener) |
//! | `MESH_NODE_NAME` | `name@host:port` or `name@host` (the port is then `MESH_CLUSTER_PORT`); required with a cookie |
//! | `MESH_CLUSTER_PORT` | port to listen on, default 4370; must agree with the port of `MESH_NODE_NAME` |
//! | `MESH_DISCOVERY_SEED` | optional DNS name; resolved now and every few seconds, each address found is dialled as a peer on the cluster port |
//!
//! Inconsistent settings (a node name or a seed without a cookie, a port
//! that is not a port, two different ports) are `Err` with a reason that
//! names the variables, never a guess. [`plan`] is the pure part (it reads
//! the variables through a function), [`start_from_env`] does the work.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Weak};
use std::time::Duration;

use mesh_core::dist::NodeName;
use mesh_core::{Atom, Term};

use crate::vm::Env;

/// The default cluster port.
pub(crate) const DEFAULT_PORT: u16 = 4370;

/// How often the discovery seed is resolved again.
const RESEED: Duration = Duration::from_secs(5);

/// What the environment asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    Standalone {
        port: u16,
    },
    Cluster {
        name: String,
        cookie: String,
        port: u16,
        seed: Option<String>,
    },
}

/// Reads the bootstrap variables through `var` (unset and empty are the same).
pub(crate) fn plan(var: impl Fn(&str) -> Option<String>) -> Result<Plan, String> {
    let get = |k: &str| {
        var(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let port = match get("MESH_CLUSTER_PORT") {
        None => DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(format!(
                    "MESH_CLUSTER_PORT={p:?} is not a port: use a number from 1 to 65535 (default {DEFAULT_PORT})"
                ));
            }
        },
    };
    let name = get("MESH_NODE_NAME");
    let seed = get("MESH_DISCOVERY_SEED");
    let Some(cookie) = get("MESH_CLUSTER_COOKIE") else {
        if name.is_some() || seed.is_some() {
            let which = if name.is_some() {
                "MESH_NODE_NAME"
            } else {
                "MESH_DISCOVERY_SEED"
            };
            return Err(format!(
                "{which} is set but MESH_CLUSTER_COOKIE is not: set the cookie to join a cluster, or unset {which} to run standalone"
            ));
        }
        return Ok(Plan::Standalone { port });
    };
    let Some(name) = name else {
        return Err(format!(
            "MESH_CLUSTER_COOKIE is set but MESH_NODE_NAME is not: name this node, e.g. MESH_NODE_NAME=app@127.0.0.1:{port}"
        ));
    };
    let full = if has_port(&name) {
        name.clone()
    } else {
        format!("{name}:{port}")
    };
    let parsed = NodeName::parse(&full).map_err(|e| format!("MESH_NODE_NAME={name:?}: {e}"))?;
    if parsed.port() != port {
        return Err(format!(
            "MESH_NODE_NAME={name:?} has port {} but MESH_CLUSTER_PORT is {port}: make them agree (or leave the port out of the name)",
            parsed.port()
        ));
    }
    Ok(Plan::Cluster {
        name: full,
        cookie,
        port,
        seed,
    })
}

/// Whether a node name carries a port (`a@h:1`, `a@[::1]:1`).
fn has_port(name: &str) -> bool {
    let host = name.rsplit_once('@').map_or(name, |(_, h)| h);
    match host.rsplit_once(']') {
        Some((_, rest)) => rest.starts_with(':'),
        None => host.contains(':'),
    }
}

fn status(mode: &str, node: &str, port: u16, seed: &str) -> Term {
    Term::structure(
        Atom::new("BootstrapStatus"),
        vec![
            Term::str(mode),
            Term::str(node),
            Term::Int(i64::from(port)),
            Term::str(seed),
        ],
    )
}

/// Runs `Node.start_from_env()` for the program `env`.
pub(super) fn start_from_env(env: &Arc<Env>) -> Result<Term, String> {
    match plan(|k| std::env::var(k).ok())? {
        Plan::Standalone { port } => Ok(status("standalone", super::NO_NODE, port, "")),
        Plan::Cluster {
            name,
            cookie,
            port,
            seed,
        } => {
            let node = super::start(env, &name, &cookie)?;
            let me = node.name().to_string();
            if let Some(seed) = &seed {
                let weak = Arc::downgrade(env);
                let seed2 = seed.clone();
                std::thread::Builder::new()
                    .name("mesh-discovery".into())
                    .spawn(move || discover(&weak, &seed2, port))
                    .map_err(|e| format!("cannot start the discovery thread: {e}"))?;
            }
            Ok(status(
                "cluster",
                &me,
                node.name().port(),
                seed.as_deref().unwrap_or(""),
            ))
        }
    }
}

/// The node name used to dial an address whose node is not known yet: the
/// peer's hello names it (the handshake then stops with `UnexpectedPeer`,
/// before any cookie proof or registry data; both sides log that at debug
/// level only), and the real name is dialled.
const PROBE: &str = "mesh-discovery";

/// Resolves `seed` every [`RESEED`] while the program runs and connects to
/// the node at every address found, other than this node's own and those
/// of nodes already connected.
fn discover(env: &Weak<Env>, seed: &str, port: u16) {
    loop {
        let Some(node) = env.upgrade().and_then(|e| super::node_of(&e)) else {
            return;
        };
        let me = node.name().clone();
        let known: Vec<SocketAddr> = node
            .list()
            .iter()
            .filter_map(|n| NodeName::parse(n).ok())
            .filter_map(|n| addr_of(&n))
            .chain(addr_of(&me))
            .collect();
        let found: Vec<SocketAddr> = (seed, port)
            .to_socket_addrs()
            .map(Iterator::collect)
            .unwrap_or_default();
        for a in found.into_iter().filter(|a| !known.contains(a)) {
            dial_address(&node, a);
        }
        drop(node);
        std::thread::sleep(RESEED);
    }
}

fn addr_of(n: &NodeName) -> Option<SocketAddr> {
    match n.host() {
        mesh_core::dist::Host::Ip(ip) => Some(SocketAddr::new(*ip, n.port())),
        mesh_core::dist::Host::Dns(h) => (h.as_str(), n.port())
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next()),
    }
}

/// Learns the name of the node at `addr` and connects to it.
fn dial_address(node: &mesh_core::node::Node, addr: SocketAddr) {
    use mesh_core::dist::handshake::HandshakeError;
    use mesh_core::node::ConnectError;
    let probe = format!("{PROBE}@{}", fmt_addr(addr));
    match node.connect(&probe) {
        Ok(()) => {}
        Err(ConnectError::Handshake {
            error: HandshakeError::UnexpectedPeer { got, .. },
            ..
        }) => {
            // Forget the probe name (no redials of it), keep the real one.
            node.disconnect(&probe);
            let _ = node.connect(&got);
        }
        Err(_) => {
            node.disconnect(&probe);
        }
    }
}

fn fmt_addr(a: SocketAddr) -> String {
    match a {
        SocketAddr::V4(v) => format!("{}:{}", v.ip(), v.port()),
        SocketAddr::V6(v) => format!("[{}]:{}", v.ip(), v.port()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(kv: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            kv.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn no_cookie_is_standalone() {
        assert_eq!(plan(vars(&[])), Ok(Plan::Standalone { port: 4370 }));
        assert_eq!(
            plan(vars(&[
                ("MESH_CLUSTER_PORT", "5000"),
                ("MESH_CLUSTER_COOKIE", " ")
            ])),
            Ok(Plan::Standalone { port: 5000 })
        );
    }

    #[test]
    fn a_cookie_with_a_name_is_a_cluster_node() {
        let p = plan(vars(&[
            ("MESH_CLUSTER_COOKIE", "dev-cookie"),
            ("MESH_NODE_NAME", "primary@127.0.0.1:4370"),
            ("MESH_DISCOVERY_SEED", "localhost"),
        ]));
        assert_eq!(
            p,
            Ok(Plan::Cluster {
                name: "primary@127.0.0.1:4370".into(),
                cookie: "dev-cookie".into(),
                port: 4370,
                seed: Some("localhost".into()),
            })
        );
        // The port comes from MESH_CLUSTER_PORT when the name has none.
        let p = plan(vars(&[
            ("MESH_CLUSTER_COOKIE", "c"),
            ("MESH_NODE_NAME", "standby@[::1]"),
            ("MESH_CLUSTER_PORT", "4400"),
        ]));
        assert!(
            matches!(&p, Ok(Plan::Cluster { name, port: 4400, seed: None, .. }) if name == "standby@[::1]:4400"),
            "{p:?}"
        );
    }

    #[test]
    fn inconsistent_environments_are_errors_naming_the_variables() {
        let e = plan(vars(&[("MESH_NODE_NAME", "a@127.0.0.1:4370")])).unwrap_err();
        assert!(
            e.contains("MESH_NODE_NAME") && e.contains("MESH_CLUSTER_COOKIE"),
            "{e}"
        );
        let e = plan(vars(&[("MESH_DISCOVERY_SEED", "localhost")])).unwrap_err();
        assert!(e.contains("MESH_DISCOVERY_SEED"), "{e}");
        let e = plan(vars(&[("MESH_CLUSTER_COOKIE", "c")])).unwrap_err();
        assert!(e.contains("MESH_NODE_NAME is not"), "{e}");
        let e = plan(vars(&[("MESH_CLUSTER_PORT", "http")])).unwrap_err();
        assert!(
            e.contains("MESH_CLUSTER_PORT=\"http\" is not a port"),
            "{e}"
        );
        let e = plan(vars(&[("MESH_CLUSTER_PORT", "0")])).unwrap_err();
        assert!(e.contains("is not a port"), "{e}");
        let e = plan(vars(&[
            ("MESH_CLUSTER_COOKIE", "c"),
            ("MESH_NODE_NAME", "a@127.0.0.1:4371"),
        ]))
        .unwrap_err();
        assert!(
            e.contains("port 4371") && e.contains("MESH_CLUSTER_PORT is 4370"),
            "{e}"
        );
        let e = plan(vars(&[
            ("MESH_CLUSTER_COOKIE", "c"),
            ("MESH_NODE_NAME", "nohost"),
        ]))
        .unwrap_err();
        assert!(e.contains("MESH_NODE_NAME=\"nohost\""), "{e}");
    }

    #[test]
    fn ports_are_found_in_names() {
        assert!(has_port("a@h:1"));
        assert!(has_port("a@[::1]:1"));
        assert!(!has_port("a@[::1]"));
        assert!(!has_port("a@host"));
    }
}
