//! `meshc test [PATH]`: runs the `*.test.mpl` files of a project.
//!
//! PATH is a project directory (default `.`: every `*.test.mpl` under it,
//! in path order) or one `*.test.mpl` file (its project is the nearest
//! directory above it holding `mesh.toml` or `main.mpl`; with none, the
//! file stands alone). Each test file is compiled with the project's
//! modules, so it can import them; `main.mpl` is not required. Tests run one at a time, in source
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

/// One test file to run.
struct TestFile {
    /// Path relative to the project root (its module name comes from it).
    rel: String,
    source: String,
    /// The path shown in messages.
    display: String,
}

/// The test files to run and the project they belong to.
struct Suite {
    root: PathBuf,
    /// The project's modules, `(path relative to root, source)`.
    modules: Vec<(String, String)>,
    tests: Vec<TestFile>,
}

impl Suite {
    /// How a project file is shown in messages.
    fn display(&self, rel: &str) -> String {
        if self.root == Path::new(".") {
            rel.to_string()
        } else {
            self.root.join(rel).display().to_string()
        }
    }
}

/// The nearest directory at or above `dir` holding `mesh.toml` or
/// `main.mpl`.
fn nearest_project(dir: &Path) -> Option<PathBuf> {
    let mut at = Some(dir);
    while let Some(d) = at {
        if d.join("mesh.toml").is_file() || d.join("main.mpl").is_file() {
            return Some(d.to_path_buf());
        }
        at = d.parent();
    }
    None
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
        let file = std::fs::canonicalize(path).map_err(|source| ProjectError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let test = |rel: String| -> Result<TestFile, CliError> {
            Ok(TestFile {
                rel,
                source: read(path)?,
                display: path.display().to_string(),
            })
        };
        let project = file.parent().and_then(nearest_project);
        let Some(root) = project else {
            // No project: the file alone.
            return Ok(Suite {
                root: PathBuf::from("."),
                modules: Vec::new(),
                tests: vec![test(name.to_string())?],
            });
        };
        let p = project::load_dir(&root, false)?;
        let rel = file
            .strip_prefix(&root)
            .map(|x| x.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| name.to_string());
        return Ok(Suite {
            root,
            modules: p.files,
            tests: vec![test(rel)?],
        });
    }
    let p = project::load_dir(path, false)?;
    let mut found = Vec::new();
    project::collect(path, path, &testing::is_test_file, &mut found)?;
    found.sort();
    if found.is_empty() {
        return Err(TestError::NoTests {
            path: path.display().to_string(),
        }
        .into());
    }
    let mut suite = Suite {
        root: path.to_path_buf(),
        modules: p.files,
        tests: Vec::new(),
    };
    suite.tests = found
        .into_iter()
        .map(|(rel, source)| TestFile {
            display: suite.display(&rel),
            rel,
            source,
        })
        .collect();
    Ok(suite)
}

/// `meshc test PATH`.
pub fn run(path: &Path, timeout: Duration) -> Result<ExitCode, CliError> {
    let suite = load(path)?;
    // Tests that start a node use the transport `MESH_TRANSPORT` names,
    // exactly as `meshc run` does.
    let transport = crate::transport_from_env()?;
    // And native code as `MESH_JIT` says (a bad value stops here).
    mesh_lang::run::native_setting(std::env::var("MESH_JIT").ok().as_deref())?;
    let opts = TestOptions {
        timeout,
        prepare: Some(std::sync::Arc::new(move |env: &mut mesh_lang::vm::Env| {
            env.transport = Some(transport.clone());
        })),
        ..TestOptions::default()
    };
    let (mut passed, mut failed, mut broken) = (0usize, 0usize, 0usize);
    let stdout = std::io::stdout();
    for t in &suite.tests {
        let mut files = suite.modules.clone();
        files.push((t.rel.clone(), t.source.clone()));
        let mut display: Vec<String> = suite
            .modules
            .iter()
            .map(|(p, _)| suite.display(p))
            .collect();
        display.push(t.display.clone());
        let shown = t.display.clone();
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
