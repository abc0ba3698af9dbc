//! The remote scenarios' peers as scripts use them: `--json` rows from the
//! raw rustls baseline and from Erlang distribution over TCP and TLS, and
//! clear failures. Sizes are `--quick`, one placement per run where the
//! test is about shape, so each test takes seconds; no figure is asserted
//! beyond being positive and finite.

use std::process::{Command, Output};

use serde_json::Value;

fn mesh_perf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesh-perf"))
        .args(args)
        .env("MESH_SCHEDULERS", "2")
        .output()
        .expect("run mesh-perf")
}

fn rows(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "mesh-perf failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    v.as_array().expect("a JSON array").clone()
}

/// (runtime, scenario, metric) of every row, checking each row's figures.
/// Mesh's own rows are left out (see `mesh_rows_carry_ratios_to_each_peer`).
fn keys(rows: &[Value]) -> Vec<(String, String, String)> {
    rows.iter()
        .filter(|r| r["runtime"] != "mesh")
        .map(|r| {
            let (min, med, max) = (
                r["min"].as_f64().expect("min"),
                r["median"].as_f64().expect("median"),
                r["max"].as_f64().expect("max"),
            );
            assert!(
                min.is_finite() && min > 0.0 && min <= med && med <= max,
                "bad summary {r}"
            );
            assert!(r["unit"].is_string(), "{r}");
            assert!(r.get("ratio").is_none(), "a peer row has no ratio: {r}");
            let s = |k: &str| r[k].as_str().expect(k).to_owned();
            (s("runtime"), s("scenario"), s("metric"))
        })
        .collect()
}

fn expect(runtime: &str, items: &[(&str, &str)]) -> Vec<(String, String, String)> {
    items
        .iter()
        .map(|(sc, m)| (runtime.to_owned(), (*sc).to_owned(), (*m).to_owned()))
        .collect()
}

#[test]
fn rustls_baseline_rows_in_both_placements() {
    let out = mesh_perf(&[
        "remote-pingpong",
        "remote-send",
        "handshake",
        "remote-spawn",
        "--peers",
        "rustls-raw",
        "--quick",
        "--json",
    ]);
    let got = keys(&rows(&out));
    // No remote-spawn rows: a raw TLS link has no processes to spawn.
    let want = expect(
        "rustls-raw",
        &[
            ("remote-pingpong/none", "rtt-p50"),
            ("remote-pingpong/none", "rtt-p99"),
            ("remote-pingpong/same", "rtt-p50"),
            ("remote-pingpong/same", "rtt-p99"),
            ("remote-send-64/none", "throughput"),
            ("remote-send-64/none", "bandwidth"),
            ("remote-send-64/same", "throughput"),
            ("remote-send-64/same", "bandwidth"),
            ("remote-send-65536/none", "throughput"),
            ("remote-send-65536/none", "bandwidth"),
            ("remote-send-65536/same", "throughput"),
            ("remote-send-65536/same", "bandwidth"),
            ("handshake/none", "setup-p50"),
            ("handshake/none", "setup-p99"),
            ("handshake/same", "setup-p50"),
            ("handshake/same", "setup-p99"),
        ],
    );
    assert_eq!(got, want);
}

#[test]
fn erlang_distribution_over_tcp_gives_every_row() {
    let out = mesh_perf(&[
        "remote-pingpong",
        "remote-send",
        "handshake",
        "remote-spawn",
        "global-register",
        "--size",
        "64",
        "--placement",
        "same",
        "--peers",
        "erlang-dist-tcp",
        "--quick",
        "--json",
    ]);
    let got = keys(&rows(&out));
    let want = expect(
        "erlang-dist-tcp",
        &[
            ("remote-pingpong/same", "rtt-p50"),
            ("remote-pingpong/same", "rtt-p99"),
            ("remote-send-64/same", "throughput"),
            ("remote-send-64/same", "bandwidth"),
            ("handshake/same", "setup-p50"),
            ("handshake/same", "setup-p99"),
            ("remote-spawn/same", "rate"),
            ("global-register/same", "register"),
            ("global-register/same", "unregister"),
        ],
    );
    assert_eq!(got, want);
}

#[test]
fn erlang_distribution_over_tls_gives_rows() {
    let out = mesh_perf(&[
        "remote-pingpong",
        "handshake",
        "--placement",
        "none",
        "--peers",
        "erlang-dist-tls13,erlang-dist-tls12",
        "--quick",
        "--json",
    ]);
    let got = keys(&rows(&out));
    let mut want = Vec::new();
    for (sc, m) in [
        ("remote-pingpong/none", "rtt-p50"),
        ("remote-pingpong/none", "rtt-p99"),
        ("handshake/none", "setup-p50"),
        ("handshake/none", "setup-p99"),
    ] {
        for rt in ["erlang-dist-tls13", "erlang-dist-tls12"] {
            want.extend(expect(rt, &[(sc, m)]));
        }
    }
    assert_eq!(got, want);
}

#[test]
fn bad_peer_name_is_a_clear_error() {
    let out = mesh_perf(&["remote-pingpong", "--peers", "erlang-dist-udp"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("erlang-dist-udp"), "{err}");
    assert!(err.contains("rustls-raw"), "names the valid peers: {err}");
}

#[test]
fn mesh_runs_the_remote_scenarios_on_its_own() {
    let out = mesh_perf(&[
        "handshake",
        "remote-spawn",
        "global-register",
        "--placement",
        "none,same",
        "--quick",
        "--json",
    ]);
    let rows = rows(&out);
    for (scenario, metric) in [
        ("handshake/none", "setup-p50"),
        ("handshake/same", "setup-p50"),
        ("remote-spawn/none", "rate"),
        ("remote-spawn/same", "rate"),
        ("global-register/none", "register"),
        ("global-register/none", "unregister"),
    ] {
        let r = rows
            .iter()
            .find(|r| r["runtime"] == "mesh" && r["scenario"] == scenario && r["metric"] == metric)
            .unwrap_or_else(|| panic!("no mesh row {scenario} {metric}"));
        let m = r["median"].as_f64().expect("median");
        assert!(m.is_finite() && m > 0.0, "{r}");
    }
}

#[test]
fn mesh_rows_carry_ratios_to_each_peer() {
    let out = mesh_perf(&[
        "remote-pingpong",
        "remote-send",
        "--size",
        "64",
        "--peers",
        "rustls-raw",
        "--placement",
        "same",
        "--quick",
        "--json",
    ]);
    let rows = rows(&out);
    for (scenario, metric) in [
        ("remote-pingpong/same", "rtt-p50"),
        ("remote-send-64/same", "throughput"),
    ] {
        let r = rows
            .iter()
            .find(|r| r["runtime"] == "mesh" && r["scenario"] == scenario && r["metric"] == metric)
            .unwrap_or_else(|| panic!("no mesh row {scenario} {metric}"));
        assert_eq!(r["peer"], "rustls-raw", "{r}");
        let ratio = r["ratio"].as_f64().expect("ratio");
        assert!(ratio.is_finite() && ratio > 0.0, "{r}");
    }
}

#[test]
fn table_names_runtime_and_placement() {
    let out = mesh_perf(&[
        "remote-pingpong",
        "--peers",
        "rustls-raw",
        "--placement",
        "same",
        "--quick",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    let first = table.lines().next().expect("a header");
    assert!(first.starts_with("runtime"), "{table}");
    assert!(
        table.contains("rustls-raw  remote-pingpong/same  rtt-p50"),
        "{table}"
    );
}
