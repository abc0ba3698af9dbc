//! Mesh language front end.
//!
//! Pipeline: [`lexer`] → [`parser`] (an [`ast`] with spans) → [`modules`]
//! (project discovery, imports, visibility) → [`check`] (names, arity,
//! Hindley–Milner types) → [`hir`] (a resolved, typed tree a bytecode
//! compiler consumes). Errors are [`diag::Diagnostic`] values with spans,
//! rendered once by the caller. [`testing`] compiles and runs the tests of
//! `*.test.mpl` files (`meshc test`). Nothing here reads files: callers pass
//! `(path, source)` pairs.
#![forbid(unsafe_code)]

pub mod ast;
pub mod builtins;
mod check;
pub mod compile;
pub mod diag;
pub mod hir;
pub mod lexer;
pub mod modules;
pub mod parser;
pub mod run;
pub mod source;
mod stdlib;
pub mod testing;
pub mod token;
pub mod types;
pub mod vm;

use std::path::Path;

/// Parses one file (as file id 0) for tools: the syntax tree and the lexer
/// and parser diagnostics.
pub fn parse_file(src: &str) -> (ast::SourceFile, Vec<diag::Diagnostic>) {
    parser::parse(source::FileId(0), src)
}

/// Checks a project given as `(path, source)` pairs (paths relative to the
/// project root; only `.mpl` files that are not `*.test.mpl` are modules).
///
/// Diagnostic spans use the index of a file in `files` as its
/// [`source::FileId`]; [`source::SourceMap::from_pairs`] builds the matching
/// map for rendering. On success the program carries any warnings in
/// [`hir::Program::warnings`]; on failure all diagnostics (errors and
/// warnings) are returned, sorted by position.
pub fn check_project<P: AsRef<Path>, S: AsRef<str>>(
    files: &[(P, S)],
) -> Result<hir::Program, Vec<diag::Diagnostic>> {
    let pairs: Vec<(String, &str)> = files
        .iter()
        .map(|(p, s)| (source::path_to_string(p.as_ref()), s.as_ref()))
        .collect();
    let (mods, mut diags) = modules::discover(&pairs);
    // Do not type-check files that failed to parse: the errors would cascade.
    if !diags.iter().any(|d| d.is_error() && d.code.is_syntax()) {
        let (program, mut more) = check::check(&mods);
        diags.append(&mut more);
        if let Some(mut program) = program
            && !diags.iter().any(diag::Diagnostic::is_error)
        {
            diag::sort(&mut program.warnings);
            return Ok(program);
        }
    }
    diag::sort(&mut diags);
    Err(diags)
}

/// Checks and compiles a project (see [`check_project`]). On success,
/// the program and the checker's warnings.
pub fn compile_project<P: AsRef<Path>, S: AsRef<str>>(
    files: &[(P, S)],
    opts: compile::Options,
) -> Result<(compile::bytecode::Program, Vec<diag::Diagnostic>), Vec<diag::Diagnostic>> {
    let program = check_project(files)?;
    let sources = source::SourceMap::from_pairs(files);
    let code = compile::compile(&program, &sources, opts)?;
    Ok((code, program.warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SEEDS: &[&str] = &[
        include_str!("../tests/cases/check/actors.mpl"),
        include_str!("../tests/cases/check/types.mpl"),
        include_str!("../tests/cases/check/patterns.mpl"),
        include_str!("../tests/cases/check/lexical.mpl"),
        include_str!("../tests/cases/check/services.mpl"),
        include_str!("../tests/cases/check/closures.mpl"),
    ];

    fn check_one(src: &str) -> Result<hir::Program, Vec<diag::Diagnostic>> {
        check_project(&[("prog.mpl", src)])
    }

    #[test]
    fn program_output_is_resolved_and_typed() {
        let src = "import Work\n\nfn twice(x) = x * 2\n\nfn main() do\n  let n = twice(Work.add())\n  println(\"${n}\")\nend\n";
        let work = "@cluster pub fn add() -> Int do\n  1 + 1\nend\n";
        let p = check_project(&[("main.mpl", src), ("work.mpl", work)]).unwrap();
        let main = p.function_by_name("Main.main").unwrap();
        assert_eq!(Some(main.id), p.entry);
        assert_eq!(
            main.locals,
            vec![hir::LocalInfo {
                name: "n".into(),
                ty: types::Type::Int
            }]
        );
        let add = p.function_by_name("Work.add").unwrap();
        assert_eq!(
            p.clustered,
            vec![hir::ClusterDecl {
                function: add.id,
                runtime_name: "Work.add".into(),
                replicas: 2,
                span: p.clustered[0].span,
            }]
        );
        let twice = p.function_by_name("Main.twice").unwrap();
        assert_eq!(
            twice.scheme.ty,
            types::Type::Fun(vec![types::Type::Int], Box::new(types::Type::Int))
        );
        // `let n = twice(Work.add())` calls resolved global functions.
        let hir::ExprKind::Block(stmts) = &main.clauses[0].body.kind else {
            panic!()
        };
        let hir::Stmt::Let { value, pat } = &stmts[0] else {
            panic!()
        };
        assert!(matches!(pat.kind, hir::PatternKind::Bind(hir::LocalId(0))));
        let hir::ExprKind::Call {
            callee: hir::Callee::Fn(f),
            args,
        } = &value.kind
        else {
            panic!()
        };
        assert_eq!(*f, twice.id);
        assert!(
            matches!(args[0].kind, hir::ExprKind::Call { callee: hir::Callee::Fn(g), .. } if g == add.id)
        );
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn closures_list_their_captures() {
        let src = "fn main() do\n  let k = 1\n  let f = fn x -> x + k end\n  f(2)\nend\n";
        let p = check_one(src).unwrap();
        let main = p.function_by_name("Prog.main").unwrap();
        let hir::ExprKind::Block(stmts) = &main.clauses[0].body.kind else {
            panic!()
        };
        let hir::Stmt::Let { value, .. } = &stmts[1] else {
            panic!()
        };
        let hir::ExprKind::Closure(c) = &value.kind else {
            panic!()
        };
        assert_eq!(
            c.captures,
            vec![hir::Capture {
                outer: hir::LocalId(0),
                inner: hir::LocalId(1)
            }]
        );
        assert_eq!(c.locals.len(), 2);
    }

    #[test]
    fn warnings_do_not_fail_checking() {
        let src = "fn f(b :: Bool) -> Int do\n  case b do\n    true -> 1\n  end\nend\n";
        let p = check_one(src).unwrap();
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].code, diag::Code::NonExhaustive);
    }

    #[test]
    fn nesting_at_the_limit_checks_without_overflow() {
        let n = parser::MAX_DEPTH as usize - 10;
        let src = format!("fn main() = {}1{}\n", "[".repeat(n), "]".repeat(n));
        assert!(check_one(&src).is_ok());
        let src = format!("fn main() = {}1\n", "1 + ".repeat(n));
        assert!(check_one(&src).is_ok());
        let src = format!(
            "fn main() = {}1{}\n",
            "(fn -> ".repeat(n / 4),
            " end)()".repeat(n / 4)
        );
        assert!(check_one(&src).is_ok(), "{:?}", check_one(&src).err());
        let src = format!(
            "fn main() = {}1{}\n",
            "if true do ".repeat(n / 4),
            " else 2 end".repeat(n / 4)
        );
        assert!(check_one(&src).is_ok(), "{:?}", check_one(&src).err());
    }

    fn mutate(src: &str, edits: &[(usize, u8, u8)]) -> String {
        let mut bytes: Vec<u8> = src.as_bytes().to_vec();
        const ALPHABET: &[u8] = b"()[]{}\"#=$|>:.,\n -+*/?!%@_aZ0end do fn";
        for &(pos, op, ch) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = pos % bytes.len();
            let c = ALPHABET[usize::from(ch) % ALPHABET.len()];
            match op % 3 {
                0 => {
                    bytes.remove(i);
                }
                1 => bytes.insert(i, c),
                _ => bytes[i] = c,
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn lexer_and_parser_never_panic_on_arbitrary_text(s in any::<String>()) {
            let _ = parse_file(&s);
        }

        #[test]
        fn front_end_never_panics_on_token_soup(s in "[a-zA-Z0-9_(){}\\[\\]\"#=$|>:.,;\n +*/%?!@-]{0,300}") {
            let _ = check_one(&s);
        }

        #[test]
        fn front_end_never_panics_on_mutated_programs(
            seed in 0..SEEDS.len(),
            edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8),
        ) {
            let src = mutate(SEEDS[seed], &edits);
            let _ = check_one(&src);
        }
    }
}
