//! End-to-end tests of the `meshc` binary: init, run, build (and running a
//! built executable copied elsewhere), test, exit codes and diagnostics.

// A test harness: failing loudly on setup errors is the point.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod dist;
mod test_cmd;

fn meshc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_meshc"))
}

fn project(dir: &Path, name: &str, main: &str) -> PathBuf {
    let p = dir.join(name);
    fs::create_dir_all(&p).unwrap();
    fs::write(
        p.join("mesh.toml"),
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n\n[dependencies]\n"),
    )
    .unwrap();
    fs::write(p.join("main.mpl"), main).unwrap();
    p
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

const APP: &str = "import Greet\n\nactor echo() do\n  receive do\n    (p, m) -> send(p, Greet.hello(m))\n  end\nend\n\nfn main() do\n  let e = spawn(echo)\n  send(e, (self(), \"built\"))\n  receive do\n    s -> println(s)\n  end\n  println(\"${Env.args()}\")\nend\n";
const GREET: &str = "pub fn hello(who :: String) -> String = \"hello, ${who}\"\n";

#[test]
fn build_writes_one_executable_that_runs_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path(), "app", APP);
    fs::write(p.join("greet.mpl"), GREET).unwrap();
    // Tests are not part of the build.
    fs::write(p.join("greet.test.mpl"), "this is not parsed (").unwrap();
    let o = meshc().arg("build").arg(&p).output().unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let exe = p.join("app");
    assert!(exe.exists());
    // Copy it away from the sources and meshc, and run it there.
    let away = tempfile::tempdir().unwrap();
    let copied = away.path().join("app");
    fs::copy(&exe, &copied).unwrap();
    drop(dir);
    let o = Command::new(&copied)
        .args(["x", "y"])
        .current_dir(away.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "hello, built\n[x, y]\n");
}

#[test]
fn build_output_path_and_release() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(
        dir.path(),
        "calc",
        "fn main() do\n  println(\"${2 + 3 * 4}\")\nend\n",
    );
    let out = dir.path().join("bin-calc");
    let o = meshc()
        .args(["build", "--release", "-o"])
        .arg(&out)
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let o = Command::new(&out).output().unwrap();
    assert_eq!(text(&o.stdout), "14\n");
}

#[test]
fn a_built_program_whose_main_fails_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(
        dir.path(),
        "boom",
        "fn main() do\n  let xs = [1]\n  println(\"${xs[5]}\")\nend\n",
    );
    let o = meshc().arg("build").arg(&p).output().unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let o = Command::new(p.join("boom")).output().unwrap();
    assert_eq!(code(&o), 1);
    let err = text(&o.stderr);
    assert!(err.contains("main.mpl:3: index 5 out of range"), "{err}");
}

#[test]
fn compile_errors_exit_1_with_rendered_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(
        dir.path(),
        "bad",
        "fn main() do\n  let x :: Int = \"a\"\n  println(\"${x}\")\nend\n",
    );
    let o = meshc().arg("build").arg(&p).output().unwrap();
    assert_eq!(code(&o), 1);
    let err = text(&o.stderr);
    assert!(err.contains("main.mpl:2:"), "{err}");
    assert!(err.contains("error[E0302]"), "{err}");
    assert!(err.contains("  let x :: Int = \"a\"\n"), "{err}");
    assert!(err.contains('^'), "{err}");
    assert!(!p.join("bad").exists());
    // The same as JSON on stdout.
    let o = meshc().arg("build").arg("--json").arg(&p).output().unwrap();
    assert_eq!(code(&o), 1);
    let out = text(&o.stdout);
    assert!(out.starts_with('['), "{out}");
    assert!(out.contains("\"code\":\"E0302\""), "{out}");
    assert!(out.contains("\"line\":2"), "{out}");
    // `run` reports the same way.
    let o = meshc().arg("run").arg(&p).output().unwrap();
    assert_eq!(code(&o), 1);
    assert!(text(&o.stderr).contains("error[E0302]"));
}

#[test]
fn unsupported_features_are_compile_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(
        dir.path(),
        "traits",
        "interface Show do\n  fn show(self) -> String\nend\n\nfn main() do\n  println(\"x\")\nend\n",
    );
    let o = meshc().arg("build").arg(&p).output().unwrap();
    assert_eq!(code(&o), 1);
    assert!(
        text(&o.stderr).contains("error[E0309]"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    // No such file.
    let o = meshc()
        .arg("run")
        .arg(dir.path().join("nope.mpl"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("no such file"),
        "{}",
        text(&o.stderr)
    );
    // Unknown command and missing arguments.
    assert_eq!(code(&meshc().arg("frobnicate").output().unwrap()), 2);
    assert_eq!(code(&meshc().arg("init").output().unwrap()), 2);
    // A bad mesh.toml.
    let p = dir.path().join("broken");
    fs::create_dir_all(&p).unwrap();
    fs::write(p.join("mesh.toml"), "[package\nname=").unwrap();
    fs::write(p.join("main.mpl"), "fn main() = ()\n").unwrap();
    let o = meshc().arg("build").arg(&p).output().unwrap();
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("invalid mesh.toml"),
        "{}",
        text(&o.stderr)
    );
    // A [cluster] table says to use @cluster.
    fs::write(
        p.join("mesh.toml"),
        "[package]\nname = \"x\"\n\n[cluster]\nreplicas = 2\n",
    )
    .unwrap();
    let o = meshc().arg("build").arg(&p).output().unwrap();
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("@cluster"), "{}", text(&o.stderr));
    // A directory without main.mpl.
    let empty = dir.path().join("empty");
    fs::create_dir_all(&empty).unwrap();
    let o = meshc().arg("build").arg(&empty).output().unwrap();
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("no main.mpl"),
        "{}",
        text(&o.stderr)
    );
    // `build` of one file says to build a directory or run the file.
    let f = dir.path().join("one.mpl");
    fs::write(&f, "fn main() = ()\n").unwrap();
    let o = meshc().arg("build").arg(&f).output().unwrap();
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    assert!(err.contains("takes a project directory"), "{err}");
    assert!(err.contains("meshc run"), "{err}");
    assert!(!err.contains("not a Mesh source file"), "{err}");
}

#[test]
fn init_creates_a_project_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let o = meshc()
        .args(["init", "hello_app"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let p = dir.path().join("hello_app");
    let manifest = fs::read_to_string(p.join("mesh.toml")).unwrap();
    assert!(manifest.contains("name = \"hello_app\""));
    let o = meshc().arg("run").arg(&p).output().unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "Hello, world!\n");
    // A second init of the same name is refused.
    let o = meshc()
        .args(["init", "hello_app"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("already exists"));
}

#[test]
fn init_clustered_creates_the_clustered_scaffold() {
    let dir = tempfile::tempdir().unwrap();
    let o = meshc()
        .args(["init", "--clustered", "hello_cluster"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let p = dir.path().join("hello_cluster");
    let manifest = fs::read_to_string(p.join("mesh.toml")).unwrap();
    assert!(manifest.contains("name = \"hello_cluster\""));
    assert!(!manifest.contains("[cluster]"), "{manifest}");
    let work = fs::read_to_string(p.join("work.mpl")).unwrap();
    assert!(work.contains("@cluster pub fn add() -> Int do"), "{work}");
    let main = fs::read_to_string(p.join("main.mpl")).unwrap();
    assert!(main.contains("Node.start_from_env()"), "{main}");
    assert!(p.join("README.md").is_file());
    // Without a cookie the node boots standalone.
    let o = meshc()
        .arg("run")
        .arg(&p)
        .env_remove("MESH_CLUSTER_COOKIE")
        .env_remove("MESH_NODE_NAME")
        .env_remove("MESH_DISCOVERY_SEED")
        .env_remove("MESH_CLUSTER_PORT")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.starts_with("[hello_cluster] runtime bootstrap mode=standalone"),
        "{out}"
    );
}

#[test]
fn run_a_single_file_with_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("script.mpl");
    fs::write(
        &f,
        "fn main() do\n  println(\"${List.length(Env.args())} ${Env.args()}\")\nend\n",
    )
    .unwrap();
    let o = meshc()
        .arg("run")
        .arg(&f)
        .args(["--", "a", "b"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "2 [a, b]\n");
    // Runtime errors name the file as given.
    fs::write(&f, "fn main() do\n  println(\"${1 / 0}\")\nend\n").unwrap();
    let o = meshc().arg("run").arg(&f).output().unwrap();
    assert_eq!(code(&o), 1);
    assert!(
        text(&o.stderr).contains("script.mpl:2: division by zero"),
        "{}",
        text(&o.stderr)
    );
}

/// A 1000-operator expression (the most one expression may chain) checks,
/// compiles and runs: the compiler's recursion over its deep tree has the
/// stack it needs.
#[test]
fn a_long_operator_chain_compiles_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("chain.mpl");
    let sum = vec!["1"; 1001].join(" + ");
    let pipes = " |> inc()".repeat(1000);
    fs::write(
        &f,
        format!(
            "fn inc(x :: Int) -> Int = x + 1\n\nfn main() do\n  let a = {sum}\n  let b = 0{pipes}\n  println(\"${{a}} ${{b}}\")\nend\n"
        ),
    )
    .unwrap();
    let o = meshc().arg("run").arg(&f).output().unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "1001 1000\n");
}

/// `IO.read_line()` answers `Ok(line)` per line of stdin (without its
/// line ending) and `Err` at the end of input, as upstream does.
#[test]
fn read_line_reads_stdin_until_the_end() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("echo.mpl");
    fs::write(
        &f,
        "fn echo(n :: Int) -> Int do\n  case IO.read_line() do\n    Ok(line) -> do\n      println(\"${n}: ${line}\")\n      echo(n + 1)\n    end\n    Err(why) -> do\n      println(\"stop: ${why}\")\n      n\n    end\n  end\nend\n\nfn main() do\n  println(\"read ${echo(0)}\")\nend\n",
    )
    .unwrap();
    let mut child = meshc()
        .arg("run")
        .arg(&f)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"one\r\ntwo\n\nlast")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "0: one\n1: two\n2: \n3: last\nstop: end of input\nread 4\n"
    );
}

/// Every project under `examples/` with an `expected.out` builds with
/// `meshc build --release` and prints exactly that.
#[test]
fn examples_print_their_expected_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let dir = tempfile::tempdir().unwrap();
    let mut ran = 0;
    for entry in fs::read_dir(&root).unwrap() {
        let project = entry.unwrap().path();
        let expected = project.join("expected.out");
        if !expected.exists() {
            continue;
        }
        let name = project.file_name().unwrap().to_string_lossy().into_owned();
        let exe = dir.path().join(&name);
        let b = meshc()
            .arg("build")
            .arg(&project)
            .arg("--release")
            .arg("-o")
            .arg(&exe)
            .output()
            .unwrap();
        assert_eq!(code(&b), 0, "{name}: {}", text(&b.stderr));
        // Distribution examples listen: on an OS-chosen port here.
        let run = Command::new(&exe)
            .env("MESH_APP_NODE", "app@127.0.0.1:0")
            .output()
            .unwrap();
        assert_eq!(code(&run), 0, "{name}: {}", text(&run.stderr));
        assert_eq!(
            text(&run.stdout),
            fs::read_to_string(&expected).unwrap(),
            "{name}"
        );
        ran += 1;
    }
    assert!(ran >= 1, "no examples found in {}", root.display());
}

#[test]
fn mesh_jit_turns_native_code_off_and_a_bad_value_stops_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("fib.mpl");
    fs::write(
        &f,
        "fn fib(n :: Int) -> Int do\n  if n < 2 do\n    n\n  else\n    fib(n - 1) + fib(n - 2)\n  end\nend\n\nfn main() do\n  println(\"${fib(24)}\")\nend\n",
    )
    .unwrap();
    for value in [None, Some("1"), Some("on"), Some("0"), Some("off")] {
        let mut cmd = meshc();
        cmd.arg("run")
            .arg("--release")
            .arg(&f)
            .env_remove("MESH_JIT");
        if let Some(v) = value {
            cmd.env("MESH_JIT", v);
        }
        let o = cmd.output().unwrap();
        assert_eq!(code(&o), 0, "MESH_JIT={value:?}: {}", text(&o.stderr));
        assert_eq!(text(&o.stdout), "46368\n", "MESH_JIT={value:?}");
    }
    let o = meshc()
        .arg("run")
        .arg(&f)
        .env("MESH_JIT", "fast")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    assert!(
        err.contains("MESH_JIT=\"fast\"") && err.contains("0 or off"),
        "{err}"
    );
}
