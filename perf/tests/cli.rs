//! `mesh-perf` as scripts use it: scenario names, `--json` rows, peers, and
//! clear failures. Sizes are `--quick`; no figure is asserted (speed is
//! measured, never tested), only the shape and sanity of the output.

use std::process::{Command, Output};

fn mesh_perf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesh-perf"))
        .args(args)
        .env("MESH_SCHEDULERS", "2")
        .output()
        .expect("run mesh-perf")
}

fn rows(out: &Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "mesh-perf failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    v.as_array().expect("a JSON array").clone()
}

#[test]
fn json_rows_have_the_documented_shape() {
    let rows = rows(&mesh_perf(&["spawn", "ring", "--quick", "--json"]));
    let names: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["scenario"].as_str().expect("scenario"),
                r["metric"].as_str().expect("metric"),
            )
        })
        .collect();
    assert_eq!(
        names,
        [("spawn", "rate"), ("spawn", "memory"), ("ring", "hops")]
    );
    for r in &rows {
        let (min, med, max) = (
            r["min"].as_f64().expect("min"),
            r["median"].as_f64().expect("median"),
            r["max"].as_f64().expect("max"),
        );
        assert!(min > 0.0 && min <= med && med <= max, "bad summary {r}");
        assert!(r["unit"].is_string());
        assert!(r.get("ratio").is_none(), "no peer ran");
    }
}

#[test]
fn erlang_peer_runs_beside_us_and_gives_ratios() {
    let rows = rows(&mesh_perf(&[
        "spawn",
        "pingpong-local",
        "--quick",
        "--json",
        "--peers",
        "erlang",
    ]));
    assert_eq!(rows.len(), 4, "{rows:?}");
    for r in &rows {
        assert_eq!(r["peer"], "erlang", "{r}");
        let peer = r["peer_median"].as_f64().expect("peer_median");
        let ours = r["median"].as_f64().expect("median");
        let ratio = r["ratio"].as_f64().expect("ratio");
        assert!(peer > 0.0, "{r}");
        assert!((ratio - ours / peer).abs() <= 1e-9 * ratio.abs(), "{r}");
    }
}

#[test]
fn unknown_scenario_fails_with_a_hint() {
    let out = mesh_perf(&["no-such-scenario"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown scenario `no-such-scenario`"), "{err}");
    assert!(err.contains("--list"), "{err}");
}

#[test]
fn list_names_every_scenario() {
    let out = mesh_perf(&["--list"]);
    assert!(out.status.success());
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        names,
        [
            "spawn",
            "send-local",
            "send-cross",
            "pingpong-local",
            "pingpong-cross",
            "ring",
            "remote-pingpong",
            "remote-send",
            "handshake",
            "remote-spawn",
            "global-register",
            "lang-remote-pingpong",
            "lang-remote-send",
            "lang-fib",
            "lang-loop",
            "lang-list",
            "lang-actors",
            "lang-ring",
            "lang-build",
            "lang-hello"
        ]
    );
}

#[test]
fn bad_scheduler_count_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_mesh-perf"))
        .args(["spawn", "--quick"])
        .env("MESH_SCHEDULERS", "lots")
        .output()
        .expect("run mesh-perf");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("MESH_SCHEDULERS"), "{err}");
}
