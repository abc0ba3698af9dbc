//! `meshc test [PATH]`: runs the `*.test.mpl` files of a project.
//!
//! PATH is a project directory (default `.`: every `*.test.mpl` under it,
//! in path order) or one `*.test.mpl` file (its project is the nearest
//! directory above it holding `mesh.toml`, else its own directory). Each
//! test file is compiled with the project's modules, so it can import
//! them; `main.mpl` is not required. Tests run one at a time, in source
//! order, each in its own Mesh process on a fresh runtime (see
//! `mesh_lang::testing`).
//!
//! Output on stdout: one line per test, `ok   FILE: NAME` or
//! `FAIL FILE: NAME` (a group's name comes first: `group > name`), a
//! failure followed by its reason and what the test printed, indented;
//! then the summary `N passed, M failed`. Compile errors go to stderr.
//! Exit status: 0 when every test passed, 1 when a test failed or a test
//! file did not compile, 2 for a usage error (no such path, no test files,
//! an invalid `mesh.toml`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use mesh_lang::compile::Options;
use mesh_lang::diag;
use mesh_lang::source::SourceMap;
use mesh_lang::testing::{self, Outcome, TestOptions};

use crate::project::{self, ProjectError};
use crate::{CliError, EXIT_COMPILE};

/// Why `meshc test` could not start (usage errors: exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error("{path}: not a test file (test files are named `*.test.mpl`)")]
    NotTestFile { path: String },
    #[error("{path}: no `*.test.mpl` files found")]
    NoTests { path: String },
}

/// The test files to run and the project they belong to.
struct Suite {
    root: PathBuf,
    /// The project's modules, `(path relative to root, source)`.
    modules: Vec<(String, String)>,
    /// The test files, `(path relative to root, source)`, in order.
    tests: Vec<(String, String)>,
}

fn nearest_project(file: &Path) -> PathBuf {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut at = Some(dir.as_path());
    while let Some(d) = at {
        if d.join("mesh.toml").is_file() {
            return d.to_path_buf();
        }
        at = d.parent().filter(|p| !p.as_os_str().is_empty());
    }
    dir
}

fn read(path: &Path) -> Result<String, ProjectError> {
    std::fs::read_to_string(path).map_err(|source| ProjectError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn load(path: &Path) -> Result<Suite, CliError> {
    if !path.exists() {
        return Err(ProjectError::Missing {
            path: path.display().to_string(),
        }
        .into());
    }
    if path.is_file() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !testing::is_test_file(name) {
            return Err(TestError::NotTestFile {
                path: path.display().to_string(),
            }
            .into());
        }
        let root = nearest_project(path);
        let p = project::load_dir(&root, false)?;
        let canon = |p: &Path| std::fs::canonicalize(p).ok();
        let rel = match (canon(path), canon(&root)) {
            (Some(f), Some(r)) => f
                .strip_prefix(&r)
                .map(|x| x.to_string_lossy().replace('\\', "/"))
                .unwrap_or_else(|_| name.to_string()),
            _ => name.to_string(),
        };
        return Ok(Suite {
            root,
            modules: p.files,
            tests: vec![(rel, read(path)?)],
        });
    }
    let p = project::load_dir(path, false)?;
    let mut tests = Vec::new();
    project::collect(path, path, &testing::is_test_file, &mut tests)?;
    tests.sort();
    if tests.is_empty() {
        return Err(TestError::NoTests {
            path: path.display().to_string(),
        }
        .into());
    }
    Ok(Suite {
        root: path.to_path_buf(),
        modules: p.files,
        tests,
    })
}

/// `meshc test PATH`.
pub fn run(path: &Path, timeout: Duration) -> Result<ExitCode, CliError> {
    let suite = load(path)?;
    let opts = TestOptions {
        timeout,
        ..TestOptions::default()
    };
    let (mut passed, mut failed, mut broken) = (0usize, 0usize, 0usize);
    let stdout = std::io::stdout();
    for (rel, src) in &suite.tests {
        let mut files = suite.modules.clone();
        files.push((rel.clone(), src.clone()));
        let display: Vec<String> = files
            .iter()
            .map(|(p, _)| {
                if suite.root == Path::new(".") {
                    p.clone()
                } else {
                    suite.root.join(p).display().to_string()
                }
            })
            .collect();
        let shown = display.last().cloned().unwrap_or_default();
        let pairs: Vec<(&str, &str)> = display
            .iter()
            .zip(&files)
            .map(|(d, (_, s))| (d.as_str(), s.as_str()))
            .collect();
        let map = SourceMap::from_pairs(&pairs);
        let tp = match testing::compile_test_file(&files, files.len() - 1, &map, Options::default())
        {
            Ok(tp) => tp,
            Err(diags) => {
                eprint!("{}", diag::render_all(&map, &diags));
                eprintln!("error: {shown} did not compile; its tests did not run");
                broken += 1;
                continue;
            }
        };
        eprint!("{}", diag::render_all(&map, &tp.warnings));
        for t in &tp.tests {
            let r = testing::run_test(&tp, t, &opts)?;
            let mut out = stdout.lock();
            match &r.outcome {
                Outcome::Passed => {
                    passed += 1;
                    let _ = writeln!(out, "ok   {shown}: {}", t.name);
                }
                Outcome::Failed(why) => {
                    failed += 1;
                    let _ = writeln!(out, "FAIL {shown}: {}", t.name);
                    for line in why.lines() {
                        let _ = writeln!(out, "     {line}");
                    }
                    if !r.output.is_empty() {
                        let _ = writeln!(out, "     output:");
                        for line in r.output.lines() {
                            let _ = writeln!(out, "     | {line}");
                        }
                    }
                }
            }
            let _ = out.flush();
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 || broken > 0 {
        return Ok(ExitCode::from(EXIT_COMPILE));
    }
    Ok(ExitCode::SUCCESS)
}
