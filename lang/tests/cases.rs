//! Table-driven language cases.
//!
//! - `tests/cases/check/*`: programs that must check with no diagnostics.
//! - `tests/cases/diagnostics/*`: programs whose rendered diagnostics must
//!   equal the sibling `.diag` file.
//!
//! A case is a single `NAME.mpl` file or a directory `NAME/` holding a
//! project (every file under it, paths relative to it). Set `MESH_BLESS=1`
//! to rewrite the `.diag` expectations from the current output.

// A test harness: failing loudly on unreadable fixtures is the point.
#![allow(clippy::unwrap_used)]

use mesh_lang::diag::render_all;
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

fn render(files: &[(String, String)]) -> (bool, String) {
    let map = SourceMap::from_pairs(files);
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
        let (ok, text) = render(files);
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
        let (_, actual) = render(files);
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
