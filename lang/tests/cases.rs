//! Table-driven language cases.
//!
//! - `tests/cases/check/*`: programs that must check with no diagnostics.
//! - `tests/cases/diagnostics/*`: programs whose rendered diagnostics must
//!   equal the sibling `.diag` file.
//! - `tests/cases/run/*`: programs compiled and run on the VM; stdout must
//!   equal the sibling `.out` file. A sibling `.err` file means the program
//!   must fail: exit status 1 and stderr equal to it. Each runs
//!   unoptimised, with `--release` optimisations, and with them but
//!   without native code (`RunOptions::native`), with the same output.
//! - `tests/cases/test/*`: `*.test.mpl` files (alone, or in a project
//!   directory) whose tests are run as `meshc test` runs them; the outcome
//!   of every test (`ok NAME`, or `FAIL NAME` with the reason and what the
//!   test printed, indented) must equal the sibling `.out` file.
//!
//! A diagnostics case holding `*.test.mpl` files is checked as `meshc
//! test` checks them: each test file with the project's modules.
//!
//! A case is a single `NAME.mpl` file or a directory `NAME/` holding a
//! project (every file under it, paths relative to it). Set `MESH_BLESS=1`
//! to rewrite the `.diag`, `.out` and `.err` expectations from the
//! current output.

// A test harness: failing loudly on unreadable fixtures is the point.
#![allow(clippy::unwrap_used)]

use mesh_lang::diag::render_all;
use mesh_lang::run::Capture;
use mesh_lang::source::SourceMap;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

/// A case: name, path on disk, files as (relative path, source).
type Case = (String, PathBuf, Vec<(String, String)>);

fn cases(dir: &str) -> Vec<Case> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(root().join(dir)) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.is_dir() {
            let mut files = Vec::new();
            collect(&p, &p, &mut files);
            files.sort();
            out.push((name, p.clone(), files));
        } else if name.ends_with(".mpl") {
            let src = fs::read_to_string(&p).unwrap();
            out.push((
                name.trim_end_matches(".mpl").to_string(),
                p.clone(),
                vec![(name, src)],
            ));
        }
    }
    out
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(base, &p, out);
        } else {
            let rel = p
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, fs::read_to_string(&p).unwrap()));
        }
    }
}

/// Checks a case; with `tests`, each `*.test.mpl` file with the project
/// (as `meshc test` does) instead of the project alone.
fn render(files: &[(String, String)], tests: bool) -> (bool, String) {
    let map = SourceMap::from_pairs(files);
    let tests: Vec<usize> = (0..files.len())
        .filter(|&i| tests && mesh_lang::testing::is_test_file(&files[i].0))
        .collect();
    if !tests.is_empty() {
        let (mut ok, mut text) = (true, String::new());
        for i in tests {
            match mesh_lang::testing::compile_test_file(files, i, &map, Default::default()) {
                Ok(p) => text.push_str(&render_all(&map, &p.warnings)),
                Err(d) => {
                    ok = false;
                    text.push_str(&render_all(&map, &d));
                }
            }
        }
        return (ok, text);
    }
    match mesh_lang::check_project(files) {
        Ok(p) => (true, render_all(&map, &p.warnings)),
        Err(d) => (false, render_all(&map, &d)),
    }
}

#[test]
fn check_cases_have_no_diagnostics() {
    let all = cases("check");
    assert!(all.len() >= 10, "check cases missing");
    let mut failures = Vec::new();
    for (name, _, files) in &all {
        let (ok, text) = render(files, false);
        if !ok || !text.is_empty() {
            failures.push(format!("--- check/{name}\n{text}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn diagnostic_cases_match_their_expectations() {
    let bless = std::env::var("MESH_BLESS").is_ok_and(|v| v == "1");
    let all = cases("diagnostics");
    assert!(all.len() >= 10, "diagnostic cases missing");
    let mut failures = Vec::new();
    for (name, path, files) in &all {
        let (_, actual) = render(files, true);
        let expect_path = path.with_file_name(format!("{name}.diag"));
        if bless {
            fs::write(&expect_path, &actual).unwrap();
            continue;
        }
        if actual.is_empty() {
            failures.push(format!("--- diagnostics/{name}: produced no diagnostics"));
            continue;
        }
        match fs::read_to_string(&expect_path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "--- diagnostics/{name}\nexpected:\n{expected}\nactual:\n{actual}"
            )),
            Err(_) => failures.push(format!(
                "--- diagnostics/{name}: missing {} (run with MESH_BLESS=1)\nactual:\n{actual}",
                expect_path.display()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Longest a run case may take.
const CASE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Compiles and runs a project: (exit status, stdout, stderr).
fn run_case(
    files: &[(String, String)],
    optimize: bool,
    native: bool,
) -> Result<(i32, String, String), String> {
    let map = SourceMap::from_pairs(files);
    // A single-file case is the project's `main.mpl` (shown by its own name).
    let checked: Vec<(String, String)> = match files {
        [(_, src)] => vec![("main.mpl".to_string(), src.clone())],
        _ => files.to_vec(),
    };
    let hir = mesh_lang::check_project(&checked).map_err(|d| render_all(&map, &d))?;
    let program = mesh_lang::compile::compile(&hir, &map, mesh_lang::compile::Options { optimize })
        .map_err(|d| render_all(&map, &d))?;
    // The image must survive the trip through `meshc build`'s encoding.
    let program = mesh_lang::compile::bytecode::Program::decode(&program.encode()).unwrap();
    let out = Capture::default();
    let err = Capture::default();
    let opts = mesh_lang::run::RunOptions {
        stdout: Box::new(out.clone()),
        stderr: Box::new(err.clone()),
        args: vec!["first".into(), "second".into()],
        config: Some(
            mesh_core::Config::default()
                .with_schedulers(2)
                .with_pinning(false),
        ),
        transport: None,
        native,
    };
    // A program that never ends fails its case instead of hanging the suite.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(mesh_lang::run::run(program, opts).map_err(|e| e.to_string()));
    });
    let code = rx.recv_timeout(CASE_TIMEOUT).map_err(|_| {
        format!(
            "did not finish within {CASE_TIMEOUT:?}\nstdout so far:\n{}",
            out.text()
        )
    })??;
    Ok((code, out.text(), err.text()))
}

#[test]
fn run_cases_print_their_expected_output() {
    let bless = std::env::var("MESH_BLESS").is_ok_and(|v| v == "1");
    let all = cases("run");
    assert!(all.len() >= 10, "run cases missing");
    let mut failures = Vec::new();
    for (name, path, files) in &all {
        let out_path = path.with_file_name(format!("{name}.out"));
        let err_path = path.with_file_name(format!("{name}.err"));
        for (optimize, native) in [(false, true), (true, true), (true, false)] {
            let (code, out, err) = match run_case(files, optimize, native) {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("--- run/{name}: does not compile or run\n{e}"));
                    break;
                }
            };
            if bless && !optimize {
                fs::write(&out_path, &out).unwrap();
                if code != 0 {
                    fs::write(&err_path, &err).unwrap();
                }
                continue;
            }
            let expected_out = fs::read_to_string(&out_path).unwrap_or_default();
            let expected_err = fs::read_to_string(&err_path).ok();
            let mode = match (optimize, native) {
                (false, _) => "debug",
                (true, true) => "release",
                (true, false) => "release, interpreted",
            };
            if out != expected_out {
                failures.push(format!(
                    "--- run/{name} ({mode}) stdout\nexpected:\n{expected_out}\nactual:\n{out}\nstderr:\n{err}"
                ));
            }
            match expected_err {
                Some(e) if code != 1 || err != e => failures.push(format!(
                    "--- run/{name} ({mode}): expected exit 1 with stderr\n{e}\ngot exit {code} with\n{err}"
                )),
                None if code != 0 => failures.push(format!(
                    "--- run/{name} ({mode}): exit status {code}\nstderr:\n{err}"
                )),
                _ => {}
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs every test of every `*.test.mpl` file of a case: one `ok NAME` or
/// `FAIL NAME` line per test, a failure's reason indented below it.
fn test_case_report(files: &[(String, String)]) -> Result<String, String> {
    let map = SourceMap::from_pairs(files);
    let opts = mesh_lang::testing::TestOptions {
        timeout: std::time::Duration::from_secs(30),
        config: Some(
            mesh_core::Config::default()
                .with_schedulers(2)
                .with_pinning(false),
        ),
        ..Default::default()
    };
    let mut report = String::new();
    for (i, (path, _)) in files.iter().enumerate() {
        if !mesh_lang::testing::is_test_file(path) {
            continue;
        }
        let tp = mesh_lang::testing::compile_test_file(files, i, &map, Default::default())
            .map_err(|d| render_all(&map, &d))?;
        for t in &tp.tests {
            let r = mesh_lang::testing::run_test(&tp, t, &opts).map_err(|e| e.to_string())?;
            match r.outcome {
                mesh_lang::testing::Outcome::Passed => {
                    report.push_str(&format!("ok {}\n", t.name));
                }
                mesh_lang::testing::Outcome::Failed(why) => {
                    report.push_str(&format!("FAIL {}\n", t.name));
                    for line in why.lines() {
                        report.push_str(&format!("  {line}\n"));
                    }
                    for line in r.output.lines() {
                        report.push_str(&format!("  | {line}\n"));
                    }
                }
            }
        }
    }
    Ok(report)
}

#[test]
fn test_cases_report_their_expected_outcomes() {
    let bless = std::env::var("MESH_BLESS").is_ok_and(|v| v == "1");
    let all = cases("test");
    assert!(!all.is_empty(), "test cases missing");
    let mut failures = Vec::new();
    for (name, path, files) in &all {
        let name = name.trim_end_matches(".test");
        let out_path = path.with_file_name(format!("{name}.out"));
        let report = match test_case_report(files) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("--- test/{name}: does not compile\n{e}"));
                continue;
            }
        };
        if bless {
            fs::write(&out_path, &report).unwrap();
            continue;
        }
        let expected = fs::read_to_string(&out_path).unwrap_or_default();
        if report != expected {
            failures.push(format!(
                "--- test/{name}\nexpected:\n{expected}\nactual:\n{report}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
