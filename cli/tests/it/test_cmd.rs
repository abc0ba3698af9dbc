//! `meshc test`: projects with passing and failing tests, the lines and
//! summary printed, and the exit status (0 all passed, 1 failures or a
//! compile error, 2 usage errors).

use super::*;

const MATH: &str = "pub fn add(a :: Int, b :: Int) -> Int = a + b\n\npub fn div(a :: Int, b :: Int) -> Int = a / b\n";

const PASSING: &str = r#"import Math

describe("Math") do
  test("adds") do
    assert Math.add(1, 2) == 3
  end

  test("divides") do
    assert_eq(Math.div(9, 3), 3)
    assert_ne(Math.div(9, 3), 4)
  end
end

test("dividing by zero raises") do
  assert_raises do
    Math.div(1, 0)
  end
end
"#;

const FAILING: &str = r#"import Math

test("passes before") do
  assert Math.add(2, 2) == 4
end

test("shows left and right") do
  println("working on it")
  assert_eq(Math.add(1, 2), 4)
end

test("a crash reports its line") do
  let zero = 0
  Math.div(1, zero)
end

test("passes after") do
  send(self(), (:hello, 7))
  assert_receive (:hello, n), 1000
  assert_eq(n, 7)
end
"#;

fn math_project(dir: &Path) -> PathBuf {
    let p = project(dir, "calc", "fn main() = ()\n");
    fs::write(p.join("math.mpl"), MATH).unwrap();
    fs::create_dir_all(p.join("tests")).unwrap();
    p
}

#[test]
fn passing_tests_print_one_line_each_and_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let p = math_project(dir.path());
    fs::write(p.join("tests/math.test.mpl"), PASSING).unwrap();
    let o = meshc().arg("test").current_dir(&p).output().unwrap();
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "ok   tests/math.test.mpl: Math > adds\n\
         ok   tests/math.test.mpl: Math > divides\n\
         ok   tests/math.test.mpl: dividing by zero raises\n\
         3 passed, 0 failed\n"
    );
    // PATH as a directory, and as the one test file.
    let o = meshc().arg("test").arg(&p).output().unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stdout).ends_with("3 passed, 0 failed\n"));
    let o = meshc()
        .arg("test")
        .arg(p.join("tests/math.test.mpl"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stdout).ends_with("3 passed, 0 failed\n"));
    // A test file named from inside the project finds the project above it.
    let o = meshc()
        .args(["test", "math.test.mpl"])
        .current_dir(p.join("tests"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).starts_with("ok   math.test.mpl: Math > adds\n"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn a_test_file_outside_any_project_runs_alone() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("scratch");
    fs::create_dir_all(&sub).unwrap();
    fs::write(
        sub.join("alone.test.mpl"),
        "fn sq(x :: Int) -> Int = x * x\n\ntest \"squares\" do\n  assert sq(3) == 9\nend\n",
    )
    .unwrap();
    let o = meshc()
        .args(["test", "scratch/alone.test.mpl"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "ok   scratch/alone.test.mpl: squares\n1 passed, 0 failed\n"
    );
}

#[test]
fn failing_tests_show_why_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let p = math_project(dir.path());
    fs::write(p.join("tests/math.test.mpl"), FAILING).unwrap();
    let o = meshc().arg("test").current_dir(&p).output().unwrap();
    assert_eq!(code(&o), 1, "{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "ok   tests/math.test.mpl: passes before\n\
         FAIL tests/math.test.mpl: shows left and right\n\
         \x20    tests/math.test.mpl:9: assert_eq failed\n\
         \x20      left:  3\n\
         \x20      right: 4\n\
         \x20    output:\n\
         \x20    | working on it\n\
         FAIL tests/math.test.mpl: a crash reports its line\n\
         \x20    math.mpl:3: division by zero (in Math.div)\n\
         ok   tests/math.test.mpl: passes after\n\
         2 passed, 2 failed\n"
    );
}

#[test]
fn a_test_file_that_does_not_compile_exits_1_and_the_others_run() {
    let dir = tempfile::tempdir().unwrap();
    let p = math_project(dir.path());
    fs::write(p.join("tests/a.test.mpl"), PASSING).unwrap();
    fs::write(
        p.join("tests/b.test.mpl"),
        "test(\"typo\") do\n  assert_eq(1, \"one\")\nend\n",
    )
    .unwrap();
    let o = meshc().arg("test").arg(&p).output().unwrap();
    assert_eq!(code(&o), 1);
    let err = text(&o.stderr);
    assert!(err.contains("b.test.mpl:2:16: error[E0302]"), "{err}");
    assert!(err.contains("did not compile"), "{err}");
    assert!(
        text(&o.stdout).ends_with("3 passed, 0 failed\n"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn a_test_past_its_timeout_fails_and_the_next_one_runs() {
    let dir = tempfile::tempdir().unwrap();
    let p = math_project(dir.path());
    fs::write(
        p.join("tests/slow.test.mpl"),
        "test(\"waits forever\") do\n  receive do\n    :never -> ()\n  end\nend\n\ntest(\"quick\") do\n  assert true\nend\n",
    )
    .unwrap();
    let o = meshc()
        .args(["test", "--timeout", "1"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    let out = text(&o.stdout);
    assert!(
        out.contains("FAIL ") && out.contains("waits forever\n     timed out after 1 s"),
        "{out}"
    );
    assert!(out.contains("ok   "), "{out}");
    assert!(out.ends_with("1 passed, 1 failed\n"), "{out}");
}

#[test]
fn test_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let p = math_project(dir.path());
    // No test files.
    let o = meshc().arg("test").arg(&p).output().unwrap();
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("no `*.test.mpl` files"));
    // No such path; not a test file.
    let o = meshc().arg("test").arg(p.join("nope")).output().unwrap();
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("no such file"));
    let o = meshc()
        .arg("test")
        .arg(p.join("math.mpl"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("not a test file"));
}
