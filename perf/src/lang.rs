//! The language scenarios: Mesh programs on the bytecode VM, with the same
//! programs in Erlang/OTP and Lua 5.4 run in the same invocation.
//!
//! - `lang-fib` (fib(30)), `lang-loop` (10 M-iteration tail-recursive loop),
//!   `lang-list` (map/filter/fold over 1 M elements), `lang-actors` (spawn
//!   100,000 actors that each receive one message), `lang-ring` (1,000
//!   processes, 1,000 laps): rows `mesh`, `erlang` and (for the first three)
//!   `lua`, each the milliseconds of the computation. Ours is compiled with
//!   the release optimisations and run in-process on a fresh runtime (the
//!   time includes starting and stopping the runtime, about a millisecond);
//!   the peers time themselves inside their VMs, so `erl`'s start-up is not
//!   counted. Lua has no processes, so it has no actor rows.
//! - `lang-build`: `meshc build --release` of a generated ~1,000-line
//!   project, timed as a whole command.
//! - `lang-hello`: start-to-exit of a built hello-world executable.
//!
//! The last two need the `meshc` binary next to `mesh-perf` (build both
//! with `cargo build --release -p mesh-cli -p mesh-perf`). Every program
//! prints a checksum that is compared with the expected one, so a wrong
//! answer is an error, not a fast row.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use mesh_core::Config;
use mesh_lang::compile::Options;
use mesh_lang::run::Capture;

use crate::PerfError;
use crate::report::Sample;
use crate::stats::Better;

/// The language scenarios, in listing order.
pub const SCENARIOS: &[&str] = &[
    "lang-fib",
    "lang-loop",
    "lang-list",
    "lang-actors",
    "lang-ring",
    "lang-build",
    "lang-hello",
];

/// The language peers' sources: `lang/` of the peers directory.
fn peers_dir() -> PathBuf {
    crate::peer::peers_dir().join("lang")
}

struct Program {
    file: &'static str,
    source: &'static str,
    args: Vec<String>,
    expect: String,
}

fn program(scenario: &str, quick: bool) -> Option<Program> {
    let (file, source, args, expect): (_, _, Vec<u64>, String) = match scenario {
        "lang-fib" => (
            "fib",
            include_str!("../peers/lang/fib.mpl"),
            vec![if quick { 25 } else { 30 }],
            (if quick { "75025" } else { "832040" }).into(),
        ),
        "lang-loop" => {
            let n: u64 = if quick { 1_000_000 } else { 10_000_000 };
            let mut acc = 0u64;
            for i in (1..=n).rev() {
                acc = (acc + i * 3) % 1_000_003;
            }
            (
                "loop",
                include_str!("../peers/lang/loop.mpl"),
                vec![n],
                acc.to_string(),
            )
        }
        "lang-list" => {
            let n: u64 = if quick { 100_000 } else { 1_000_000 };
            let s: u64 = (0..n).map(|x| x * 3).filter(|x| x % 2 == 0).sum();
            (
                "list",
                include_str!("../peers/lang/list.mpl"),
                vec![n],
                s.to_string(),
            )
        }
        "lang-actors" => {
            let n: u64 = if quick { 10_000 } else { 100_000 };
            (
                "actors",
                include_str!("../peers/lang/actors.mpl"),
                vec![n],
                n.to_string(),
            )
        }
        "lang-ring" => {
            let (p, l): (u64, u64) = if quick { (1000, 100) } else { (1000, 1000) };
            (
                "ring",
                include_str!("../peers/lang/ring.mpl"),
                vec![p, l],
                (p * l).to_string(),
            )
        }
        _ => return None,
    };
    Some(Program {
        file,
        source,
        args: args.iter().map(u64::to_string).collect(),
        expect,
    })
}

/// Run every repetition of `scenario` (ours and the peers).
pub fn run(
    scenario: &str,
    reps: usize,
    quick: bool,
    base: &Config,
) -> Result<Vec<Sample>, PerfError> {
    match scenario {
        "lang-build" => return build(reps),
        "lang-hello" => return hello(reps),
        _ => {}
    }
    let p = program(scenario, quick).ok_or_else(|| PerfError::UnknownScenario(scenario.into()))?;
    let mut out = Vec::new();
    let code = compile(&p)?;
    for _ in 0..reps {
        let (ms, text) = run_ours(&code, &p, base)?;
        check(scenario, "mesh", &text, &p.expect)?;
        out.push(Sample::new("mesh", "ms", Better::Lower, ms));
    }
    for (value, ms) in erlang(scenario, reps, &p.args)? {
        check(scenario, "erlang", &value, &p.expect)?;
        out.push(Sample::new("erlang", "ms", Better::Lower, ms));
    }
    if matches!(scenario, "lang-fib" | "lang-loop" | "lang-list") {
        for _ in 0..reps {
            let (value, ms) = lua(p.file, &p.args)?;
            check(scenario, "lua", &value, &p.expect)?;
            out.push(Sample::new("lua", "ms", Better::Lower, ms));
        }
    }
    Ok(out)
}

fn check(scenario: &str, who: &str, got: &str, expect: &str) -> Result<(), PerfError> {
    if got.trim() == expect {
        Ok(())
    } else {
        Err(PerfError::PeerFailed {
            peer: "lang",
            what: format!("{scenario} on {who}"),
            stderr: format!("printed {:?}, expected {expect}", got.trim()),
        })
    }
}

fn compile(p: &Program) -> Result<mesh_lang::compile::bytecode::Program, PerfError> {
    mesh_lang::compile_project(&[("main.mpl", p.source)], Options { optimize: true })
        .map(|(code, _)| code)
        .map_err(|d| PerfError::PeerFailed {
            peer: "mesh",
            what: format!("compiling {}.mpl", p.file),
            stderr: d
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("\n"),
        })
}

fn run_ours(
    code: &mesh_lang::compile::bytecode::Program,
    p: &Program,
    base: &Config,
) -> Result<(f64, String), PerfError> {
    let out = Capture::default();
    let err = Capture::default();
    let opts = mesh_lang::run::RunOptions {
        stdout: Box::new(out.clone()),
        stderr: Box::new(err.clone()),
        args: p.args.clone(),
        config: Some(base.clone()),
        transport: None,
        native: mesh_lang::run::native_from_env(),
    };
    let t0 = Instant::now();
    let status = mesh_lang::run::run(code.clone(), opts).map_err(|e| PerfError::PeerFailed {
        peer: "mesh",
        what: format!("running {}.mpl", p.file),
        stderr: e.to_string(),
    })?;
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    if status != 0 {
        return Err(PerfError::PeerFailed {
            peer: "mesh",
            what: format!("running {}.mpl (exit {status})", p.file),
            stderr: err.text(),
        });
    }
    Ok((ms, out.text()))
}

/// `(printed value, milliseconds)` per repetition from the Erlang peer.
fn erlang(scenario: &str, reps: usize, args: &[String]) -> Result<Vec<(String, f64)>, PerfError> {
    let ebin = tempfile::tempdir().map_err(PerfError::Io)?;
    crate::peer::compile_erlang("erlang", "lang/mesh_perf_lang.erl", ebin.path())?;
    let quoted: Vec<String> = [scenario.to_owned(), reps.to_string()]
        .into_iter()
        .chain(args.iter().cloned())
        .map(|a| format!("\"{a}\""))
        .collect();
    let out = Command::new("erl")
        .args(["-noshell", "+P", "4194304", "-pa"])
        .arg(ebin.path())
        .arg("-eval")
        .arg(format!("mesh_perf_lang:main([{}])", quoted.join(",")))
        .output()
        .map_err(|e| PerfError::PeerMissing {
            peer: "erlang",
            tool: "erl",
            source: e,
        })?;
    if !out.status.success() {
        return Err(PerfError::PeerFailed {
            peer: "erlang",
            what: format!("scenario {scenario}"),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut rows = Vec::new();
    for line in text.lines() {
        let mut it = line.split_whitespace();
        if it.next() != Some("RESULT") {
            continue;
        }
        let (Some(v), Some(ms)) = (it.next(), it.next()) else {
            return Err(PerfError::PeerOutput(line.to_owned()));
        };
        let ms: f64 = ms
            .parse()
            .map_err(|_| PerfError::PeerOutput(line.to_owned()))?;
        rows.push((v.to_owned(), ms));
    }
    Ok(rows)
}

/// `(printed value, milliseconds)` from the Lua peer.
fn lua(file: &str, args: &[String]) -> Result<(String, f64), PerfError> {
    let src = peers_dir().join(format!("{file}.lua"));
    let out = Command::new("lua5.4")
        .arg(&src)
        .args(args)
        .output()
        .map_err(|e| PerfError::PeerMissing {
            peer: "lua",
            tool: "lua5.4",
            source: e,
        })?;
    if !out.status.success() {
        return Err(PerfError::PeerFailed {
            peer: "lua",
            what: format!("lua5.4 {}", src.display()),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut it = text.split_whitespace();
    match (it.next(), it.next().and_then(|m| m.parse::<f64>().ok())) {
        (Some(v), Some(ms)) => Ok((v.to_owned(), ms)),
        _ => Err(PerfError::PeerOutput(text)),
    }
}

/// The `meshc` next to this executable.
fn meshc() -> Result<PathBuf, PerfError> {
    let exe = std::env::current_exe().map_err(PerfError::Io)?;
    let p = exe.with_file_name("meshc");
    if p.exists() {
        Ok(p)
    } else {
        Err(PerfError::PeerMissing {
            peer: "mesh",
            tool: "meshc (build it: cargo build --release -p mesh-cli)",
            source: std::io::Error::new(std::io::ErrorKind::NotFound, p.display().to_string()),
        })
    }
}

/// A project of about 1,000 lines: 20 modules of helpers, a main using them.
fn write_big_project(dir: &Path) -> Result<usize, PerfError> {
    let mut lines = 0;
    let mut main = String::from("fn main() do\n  let total = 0\n");
    std::fs::write(dir.join("mesh.toml"), "[package]\nname = \"big\"\n").map_err(PerfError::Io)?;
    for m in 0..20 {
        let mut src = format!("# module {m}\nstruct Rec{m} do\n  a :: Int\n  b :: String\nend\n\n");
        for f in 0..8 {
            src.push_str(&format!(
                "pub fn f{f}(xs :: List<Int>, k :: Int) -> Int do\n  let ys = List.map(xs, fn x -> x * {f} + k end)\n  let r = Rec{m} {{ a: k, b: \"r{f}\" }}\n  case List.find(ys, fn y -> y > r.a end) do\n    Some(v) -> v + {m}\n    None -> r.a\n  end\nend\n\n"
            ));
        }
        src.push_str(
            "pub fn total(n :: Int) -> Int do\n  let xs = List.range(0, n)\n  f0(xs, 1) + f1(xs, 2) + f2(xs, 3) + f3(xs, 4) + f4(xs, 5) + f5(xs, 6) + f6(xs, 7) + f7(xs, 8)\nend\n",
        );
        lines += src.lines().count();
        std::fs::write(dir.join(format!("mod{m}.mpl")), &src).map_err(PerfError::Io)?;
        main.push_str(&format!("  println(\"${{Mod{m}.total(10)}}\")\n"));
    }
    main.push_str("  println(\"${total}\")\nend\n");
    let imports: String = (0..20).map(|m| format!("import Mod{m}\n")).collect();
    let main = format!("{imports}\n{main}");
    lines += main.lines().count();
    std::fs::write(dir.join("main.mpl"), main).map_err(PerfError::Io)?;
    Ok(lines)
}

fn build(reps: usize) -> Result<Vec<Sample>, PerfError> {
    let meshc = meshc()?;
    let dir = tempfile::tempdir().map_err(PerfError::Io)?;
    let lines = write_big_project(dir.path())?;
    let mut out = vec![Sample::new(
        "source-lines",
        "lines",
        Better::Higher,
        lines as f64,
    )];
    for _ in 0..reps {
        let t0 = Instant::now();
        let o = Command::new(&meshc)
            .arg("build")
            .arg(dir.path())
            .arg("--release")
            .arg("-o")
            .arg(dir.path().join("big"))
            .output()
            .map_err(PerfError::Io)?;
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        if !o.status.success() {
            return Err(PerfError::PeerFailed {
                peer: "mesh",
                what: "meshc build of the generated project".into(),
                stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            });
        }
        out.push(Sample::new("build", "ms", Better::Lower, ms));
    }
    Ok(out)
}

fn hello(reps: usize) -> Result<Vec<Sample>, PerfError> {
    let meshc = meshc()?;
    let dir = tempfile::tempdir().map_err(PerfError::Io)?;
    std::fs::write(
        dir.path().join("mesh.toml"),
        "[package]\nname = \"hello\"\n",
    )
    .map_err(PerfError::Io)?;
    std::fs::write(
        dir.path().join("main.mpl"),
        "fn main() do\n  println(\"Hello, world!\")\nend\n",
    )
    .map_err(PerfError::Io)?;
    let exe = dir.path().join("hello");
    let o = Command::new(&meshc)
        .arg("build")
        .arg(dir.path())
        .arg("-o")
        .arg(&exe)
        .output()
        .map_err(PerfError::Io)?;
    if !o.status.success() {
        return Err(PerfError::PeerFailed {
            peer: "mesh",
            what: "meshc build of hello".into(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        });
    }
    let mut out = Vec::new();
    // Many short runs per repetition: one start-up is a few milliseconds.
    for _ in 0..reps {
        let runs = 20;
        let t0 = Instant::now();
        for _ in 0..runs {
            let o = Command::new(&exe).output().map_err(PerfError::Io)?;
            if !o.status.success() || o.stdout != b"Hello, world!\n" {
                return Err(PerfError::PeerFailed {
                    peer: "mesh",
                    what: "running the built hello".into(),
                    stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
                });
            }
        }
        let ms = t0.elapsed().as_secs_f64() * 1000.0 / f64::from(runs);
        out.push(Sample::new("start-to-exit", "ms", Better::Lower, ms));
    }
    Ok(out)
}
