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
pub mod diag;
pub mod hir;
pub mod lexer;
pub mod modules;
pub mod parser;
pub mod source;
pub mod token;
pub mod types;
