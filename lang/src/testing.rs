//! `meshc test`: compiling a `*.test.mpl` file with its project, running
//! its tests, and the assertion functions (`MeshTest.*`) they call.
//!
//! The syntax (`test`, `describe`, `setup`, `teardown`, `assert`, ...) is
//! lowered by [`crate::parser::parse_test_file`]; here the lowered file
//! becomes one more module of the project (named after its path, with a
//! lowercase `.test` segment no project module can have: `math.test.mpl`
//! is `Math.test`), so it can import the project's modules, and the
//! project is checked and compiled as usual (the test module included).
//!
//! Running, per test, sequentially and in source order (simple, and the
//! output is deterministic): a fresh runtime, so nothing a test starts or
//! registers outlives it; the test (setups, then body) in its own Mesh
//! process; then each teardown in a fresh process, whatever the outcome.
//! A test fails when its process fails (an assertion, or any runtime
//! error: the reason names the source line), when a teardown fails, or
//! when it has not finished within the timeout. Whatever the test
//! printed is captured and handed back with the outcome. When the test
//! and its teardowns are done, every process still running is stopped.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use mesh_core::process::reason;
use mesh_core::{Atom, Config, Received, Runtime, Step, Term, process_fn};

use crate::ast::TestDecl;
use crate::compile::{self, bytecode::Program};
use crate::diag::{self, Diagnostic};
use crate::modules::{self, ExtraModule};
use crate::run::{Capture, RunError};
use crate::source::{self, FileId, SourceMap};
use crate::stdlib::{Call, Impl, Ret};
use crate::vm::{Env, Fault, Image, VmProcess, to_string};

/// How long a test (with its teardowns) may run by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The module name of test file `path` (`api/users.test.mpl` is
/// `Api.Users.test`), or `None` when it is not a `*.test.mpl` file.
pub fn test_module_name(path: &str) -> Option<String> {
    let stem = path.strip_suffix(".test.mpl")?;
    let base = modules::module_name(&format!("{stem}.mpl"))?;
    Some(format!("{base}.test"))
}

/// True for a `*.test.mpl` path.
pub fn is_test_file(path: &str) -> bool {
    path.ends_with(".test.mpl")
}

/// One test, compiled.
#[derive(Debug, Clone)]
pub struct Test {
    /// `group > name`.
    pub name: String,
    /// 1-based line of the `test` in its file.
    pub line: usize,
    func: u32,
    teardowns: Vec<u32>,
}

/// A compiled test file: the project's program with the test module, and
/// its tests in source order.
#[derive(Debug)]
pub struct TestProgram {
    pub program: Program,
    pub tests: Vec<Test>,
    /// The checker's warnings.
    pub warnings: Vec<Diagnostic>,
}

/// Checks and compiles the test file `files[test]` together with the
/// project's modules (the other `*.test.mpl` files in `files` are left
/// out). Paths are relative to the project root, as for
/// [`crate::check_project`]; diagnostics use indices into `files`.
/// `sources` holds the same files under the names runtime errors show.
/// An index `test` outside `files` names nothing to compile: `Err` with no
/// diagnostics.
pub fn compile_test_file<P: AsRef<Path>, S: AsRef<str>>(
    files: &[(P, S)],
    test: usize,
    sources: &SourceMap,
    opts: compile::Options,
) -> Result<TestProgram, Vec<Diagnostic>> {
    let pairs: Vec<(String, &str)> = files
        .iter()
        .map(|(p, s)| (source::path_to_string(p.as_ref()), s.as_ref()))
        .collect();
    let Some((path, text)) = pairs.get(test) else {
        return Err(Vec::new());
    };
    let file = FileId(u32::try_from(test).unwrap_or(u32::MAX));
    let name = test_module_name(path.trim_start_matches("./")).unwrap_or_else(|| "Tests".into());
    let (ast, decls, mut diags) = crate::parser::parse_test_file(file, text);
    let (mods, mut more) = modules::discover_with(
        &pairs,
        Some(ExtraModule {
            name: name.clone(),
            path: path.clone(),
            file,
            ast,
        }),
    );
    diags.append(&mut more);
    let fail = |mut diags: Vec<Diagnostic>| {
        diag::sort(&mut diags);
        // A setup is copied into every test: report its errors once.
        diags.dedup();
        Err(diags)
    };
    if diags.iter().any(|d| d.is_error() && d.code.is_syntax()) {
        return fail(diags);
    }
    let (program, mut more) = crate::check::check(&mods);
    diags.append(&mut more);
    let Some(mut program) = program else {
        return fail(diags);
    };
    if diags.iter().any(Diagnostic::is_error) {
        return fail(diags);
    }
    diag::sort(&mut program.warnings);
    program.warnings.dedup();
    let code = compile::compile(&program, sources, opts)?;
    let func = |f: &str| {
        let q = format!("{name}.{f}");
        code.funcs
            .iter()
            .position(|x| x.name == q)
            .and_then(|i| u32::try_from(i).ok())
    };
    let tests = decls
        .iter()
        .filter_map(|d: &TestDecl| {
            Some(Test {
                name: d.name.clone(),
                line: sources.span_lines(d.span).0.line,
                func: func(&d.func)?,
                teardowns: d.teardowns.iter().filter_map(|t| func(t)).collect(),
            })
        })
        .collect();
    Ok(TestProgram {
        program: code,
        tests,
        warnings: program.warnings,
    })
}

/// How a test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// The reason, starting with `file:line:` when it comes from a runtime
    /// error (an assertion included).
    Failed(String),
}

/// A test's outcome and what it printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    pub outcome: Outcome,
    /// Everything the test's processes wrote to stdout and stderr.
    pub output: String,
}

/// Adjusts each test's program environment before it runs (what
/// [`crate::run::run`] takes from its options: `Env.args()`, and whatever
/// else a program's environment carries).
pub type PrepareEnv = Arc<dyn Fn(&mut Env) + Send + Sync>;

/// How to run tests.
#[derive(Clone)]
pub struct TestOptions {
    /// Limit for one test with its teardowns.
    pub timeout: Duration,
    /// Runtime configuration (`Config::from_env()` when `None`).
    pub config: Option<Config>,
    /// Called on each test's fresh environment.
    pub prepare: Option<PrepareEnv>,
}

impl std::fmt::Debug for TestOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestOptions")
            .field("timeout", &self.timeout)
            .field("config", &self.config)
            .field("prepare", &self.prepare.is_some())
            .finish()
    }
}

impl Default for TestOptions {
    fn default() -> TestOptions {
        TestOptions {
            timeout: DEFAULT_TIMEOUT,
            config: None,
            prepare: None,
        }
    }
}

/// Runs test `t` of `tp` (see the module docs for how).
pub fn run_test(tp: &TestProgram, t: &Test, opts: &TestOptions) -> Result<TestResult, RunError> {
    let out = Capture::default();
    let mut env = Env::new(
        Image::load(tp.program.clone(), crate::run::native_from_env()),
        Box::new(out.clone()),
        Box::new(out.clone()),
    );
    if let Some(prepare) = &opts.prepare {
        prepare(&mut env);
    }
    let env = Arc::new(env);
    let config = match &opts.config {
        Some(c) => c.clone(),
        None => Config::from_env()?,
    };
    let rt = Runtime::start(config)?;
    let _ = env.runtime.set(rt.handle());
    let names: Vec<String> = std::iter::once(t.func)
        .chain(t.teardowns.iter().copied())
        .map(|f| {
            tp.program
                .funcs
                .get(f as usize)
                .map_or_else(String::new, |x| x.name.clone())
        })
        .collect();
    let mut queue: VecDeque<VmProcess> = std::iter::once(t.func)
        .chain(t.teardowns.iter().copied())
        .map(|f| VmProcess::new(Arc::clone(&env), f, Vec::new()).quiet())
        .collect();
    let (tx, rx) = mpsc::channel::<Vec<Term>>();
    let mut current = None;
    let mut reasons: Vec<Term> = Vec::new();
    // Runs the test and then each teardown, one at a time, each monitored.
    let driver = process_fn(move |cx| {
        loop {
            if let Some(r) = current {
                let down = cx.receive(
                    |m| reason::as_down_message(m).is_some_and(|(mr, _, _)| mr == r),
                    None,
                );
                match down {
                    Received::Msg(m) => {
                        let why = reason::as_down_message(&m)
                            .map_or(Term::Unit, |(_, _, why)| why.clone());
                        reasons.push(why);
                        current = None;
                    }
                    Received::Pending | Received::Timeout => return Step::Wait,
                }
            }
            match queue.pop_front() {
                Some(p) => current = Some(cx.spawn_monitor(p).1),
                None => {
                    let _ = tx.send(std::mem::take(&mut reasons));
                    return Step::Exit(reason::normal());
                }
            }
        }
    });
    let spawned = rt.handle().spawn(driver);
    let reasons = match spawned {
        Ok(_) => rx.recv_timeout(opts.timeout).ok(),
        Err(_) => None,
    };
    rt.shutdown();
    env.flush_out();
    let outcome = match reasons {
        None if spawned.is_err() => Outcome::Failed("the test could not be started".into()),
        None => Outcome::Failed(format!(
            "timed out after {} s (still running)",
            opts.timeout.as_secs_f64()
        )),
        Some(reasons) => {
            let failures: Vec<String> = reasons
                .iter()
                .zip(&names)
                .enumerate()
                .filter(|(_, (why, _))| !why.is_atom(Atom::NORMAL))
                .map(|(i, (why, func))| {
                    let text = describe_reason(why, func);
                    if i == 0 {
                        text
                    } else {
                        format!("in teardown: {text}")
                    }
                })
                .collect();
            if failures.is_empty() {
                Outcome::Passed
            } else {
                Outcome::Failed(failures.join("\n"))
            }
        }
    };
    Ok(TestResult {
        outcome,
        output: out.text(),
    })
}

/// A failure reason as a message: `(:error, "file:line: msg (in f)")`
/// loses the ` (in f)` when `f` is the generated test function.
fn describe_reason(why: &Term, func: &str) -> String {
    if let Some([tag, Term::Str(msg)]) = why.as_tuple()
        && tag.is_atom(Atom::ERROR)
    {
        let msg: &str = msg;
        let suffix = format!(" (in {func})");
        return msg.strip_suffix(&suffix).unwrap_or(msg).to_string();
    }
    format!("the test process exited: {}", to_string(why))
}

/// A value in a failure message: strings quoted (so spaces show), other
/// values as the language displays them.
fn show(t: &Term) -> String {
    match t {
        Term::Str(s) => format!("{:?}", &**s),
        _ => to_string(t),
    }
}

fn fault(message: String) -> Fault {
    Fault::Builtin { message }
}

/// The assertion functions, by builtin name (see [`crate::builtins`]).
pub(crate) static IMPLS: &[(&str, Impl)] = &[
    ("MeshTest.assert", assert),
    ("MeshTest.assert_eq", assert_eq),
    ("MeshTest.assert_ne", assert_ne),
    ("MeshTest.fail", fail),
];

fn assert(c: &mut Call<'_, '_>) -> Result<Ret, Fault> {
    match c.peek(0) {
        Term::Bool(true) => Ok(Ret::Value(Term::Unit)),
        _ => Err(fault(format!("assertion failed: {}", to_string(c.peek(1))))),
    }
}

fn assert_eq(c: &mut Call<'_, '_>) -> Result<Ret, Fault> {
    let (l, r) = (c.peek(0), c.peek(1));
    if l == r {
        return Ok(Ret::Value(Term::Unit));
    }
    Err(fault(format!(
        "assert_eq failed\n  left:  {}\n  right: {}",
        show(l),
        show(r)
    )))
}

fn assert_ne(c: &mut Call<'_, '_>) -> Result<Ret, Fault> {
    let (l, r) = (c.peek(0), c.peek(1));
    if l != r {
        return Ok(Ret::Value(Term::Unit));
    }
    Err(fault(format!(
        "assert_ne failed: both sides are {}",
        show(l)
    )))
}

fn fail(c: &mut Call<'_, '_>) -> Result<Ret, Fault> {
    Err(fault(to_string(c.peek(0))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SEED: &str = include_str!("../tests/cases/test/assertions.test.mpl");

    fn compile(src: &str) -> Result<TestProgram, Vec<Diagnostic>> {
        let files = [("main.mpl", "fn main() = ()\n"), ("main.test.mpl", src)];
        let map = SourceMap::from_pairs(&files);
        compile_test_file(&files, 1, &map, compile::Options::default())
    }

    #[test]
    fn tests_are_found_in_source_order_with_their_teardowns() {
        let src = "teardown do\n  ()\nend\n\ntest(\"a\") do\n  assert true\nend\n\ndescribe(\"g\") do\n  teardown do\n    ()\n  end\n  test(\"b\") do\n    assert true\n  end\nend\n";
        let tp = compile(src).unwrap();
        let names: Vec<(&str, usize, usize)> = tp
            .tests
            .iter()
            .map(|t| (t.name.as_str(), t.line, t.teardowns.len()))
            .collect();
        assert_eq!(names, vec![("a", 5, 1), ("g > b", 13, 2)]);
        // Inner teardown first.
        let b = &tp.tests[1];
        let name = |f: u32| tp.program.funcs[f as usize].name.clone();
        assert_eq!(name(b.teardowns[0]), "Main.test.teardown#2");
        assert_eq!(name(b.teardowns[1]), "Main.test.teardown#1");
    }

    #[test]
    fn prepare_sets_up_each_test_environment() {
        let src = "test(\"args\") do\n  assert_eq(Env.args(), [\"x\"])\nend\n";
        let tp = compile(src).unwrap();
        let config = mesh_core::Config::default()
            .with_schedulers(1)
            .with_pinning(false);
        let mut opts = TestOptions {
            config: Some(config),
            ..TestOptions::default()
        };
        let r = run_test(&tp, &tp.tests[0], &opts).unwrap();
        assert!(
            matches!(&r.outcome, Outcome::Failed(why) if why.contains("left:  []")),
            "{r:?}"
        );
        opts.prepare = Some(Arc::new(|env: &mut Env| env.args = vec!["x".into()]));
        let r = run_test(&tp, &tp.tests[0], &opts).unwrap();
        assert_eq!(r.outcome, Outcome::Passed);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn test_files_never_panic_the_front_end(s in "[a-z_(){}\\[\\]\"#=$|>:.,;\n +*/%?!@-]{0,200}") {
            let _ = compile(&s);
        }

        #[test]
        fn mutated_test_files_never_panic_the_front_end(
            edits in proptest::collection::vec((any::<usize>(), 0..3u8, b'!'..b'~'), 1..6),
        ) {
            let mut bytes = SEED.as_bytes().to_vec();
            for (pos, op, c) in edits {
                if bytes.is_empty() {
                    break;
                }
                let i = pos % bytes.len();
                match op {
                    0 => {
                        bytes.remove(i);
                    }
                    1 => bytes.insert(i, c),
                    _ => bytes[i] = c,
                }
            }
            let _ = compile(&String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn test_module_names_cannot_clash_with_modules() {
        assert_eq!(
            test_module_name("math.test.mpl").as_deref(),
            Some("Math.test")
        );
        assert_eq!(
            test_module_name("api/todo_items.test.mpl").as_deref(),
            Some("Api.TodoItems.test")
        );
        assert_eq!(test_module_name("math.mpl"), None);
    }
}
