//! Mesh language front end.
//!
//! Pipeline: [`lexer`] → [`parser`] (an [`ast`] with spans) → [`modules`]
//! (project discovery, imports, visibility) → [`check`] (names, arity,
//! Hindley–Milner types) → [`hir`] (a resolved, typed tree a bytecode
//! compiler consumes). Errors are [`diag::Diagnostic`] values with spans,
//! rendered once by the caller. Nothing here reads files: callers pass
//! `(path, source)` pairs.
#![forbid(unsafe_code)]

pub mod ast;
pub mod builtins;
mod check;
pub mod diag;
pub mod hir;
pub mod lexer;
pub mod modules;
pub mod parser;
pub mod source;
pub mod token;
pub mod types;

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
