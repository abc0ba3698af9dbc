//! Compile diagnostics as values.
//!
//! Owns [`Diagnostic`] (code, severity, span, message, notes), the stable
//! [`Code`] catalogue, and the two renderings done once at the edge: the
//! human form (`file:line:col: error[E0302]: message`, the source line and a
//! caret line) and JSON objects with `file line col end_line end_col
//! severity code message`. Every phase of the front end reports through these
//! values; none of them prints.

use crate::source::{SourceMap, Span};
use serde::Serialize;
use std::fmt::Write as _;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $text:literal,)*) => {
        /// Stable diagnostic codes. Never renumber: tools and tests match on them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $($(#[$doc])* $name,)*
        }

        impl Code {
            /// The code as printed, e.g. `E0302`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$name => $text,)*
                }
            }

            /// True for lexer and parser codes (`E00xx`, `E01xx`).
            pub fn is_syntax(self) -> bool {
                self.as_str().starts_with("E00") || self.as_str().starts_with("E01")
            }

            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$name,)*];
        }
    };
}

codes! {
    /// A character that starts no token.
    UnexpectedChar = "E0001",
    /// A string or heredoc without its closing quotes.
    UnterminatedString = "E0002",
    /// A `#=` block comment without its `=#`.
    UnterminatedComment = "E0003",
    /// A malformed or out-of-range number literal.
    BadNumber = "E0004",
    /// A malformed `\u{...}` escape in a string.
    BadEscape = "E0005",
    /// The parser found a token it cannot use here.
    UnexpectedToken = "E0100",
    /// Nesting deeper than the parser's limit.
    TooDeep = "E0101",
    /// A `|N>` pipe whose position does not fit the call.
    BadPipe = "E0102",
    /// An unknown or misplaced `@attribute`.
    BadAttribute = "E0103",
    /// A malformed test item or assertion in a `*.test.mpl` file, or a test
    /// item outside one.
    BadTest = "E0104",
    /// An import or qualified name naming no module.
    UnknownModule = "E0200",
    /// Modules importing each other in a cycle.
    ImportCycle = "E0201",
    /// Use of a non-`pub` item from another module.
    PrivateItem = "E0202",
    /// Two definitions of one name.
    DuplicateDefinition = "E0203",
    /// `main.mpl` without `fn main()`.
    MissingMain = "E0204",
    /// `from M import x` where `M` has no `x`.
    UnknownImport = "E0205",
    /// A name that resolves to nothing.
    UnknownName = "E0300",
    /// Wrong number of arguments.
    Arity = "E0301",
    /// Two types that should be equal are not.
    TypeMismatch = "E0302",
    /// A field the struct does not have.
    UnknownField = "E0303",
    /// A struct literal without one of the struct's fields.
    MissingField = "E0304",
    /// Calling something that is not a function.
    NotCallable = "E0305",
    /// The checker cannot work out a type without an annotation.
    CannotInfer = "E0306",
    /// `?` on something that is not a `Result`/`Option`, or in a function that
    /// cannot return one.
    BadTry = "E0307",
    /// `break`/`continue` outside a loop.
    BadLoopControl = "E0308",
    /// A construct parsed but not supported yet (P2).
    Unsupported = "E0309",
    /// Misuse of `@cluster`.
    BadCluster = "E0310",
    /// An invalid supervisor specification.
    BadSupervisor = "E0311",
    /// A type name that resolves to nothing.
    UnknownType = "E0312",
    /// A generic type applied to the wrong number of arguments.
    TypeArgCount = "E0313",
    /// A type that would contain itself.
    InfiniteType = "E0314",
    /// A pattern that binds a name twice, or or-pattern sides binding different names.
    BadPattern = "E0315",
    /// An invalid service definition.
    BadService = "E0316",
    /// A `case` that does not cover every constructor.
    NonExhaustive = "W0001",
}

/// One compile error or warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub span: Span,
    pub message: String,
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error.
    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            span,
            message: message.into(),
            notes: Vec::new(),
        }
    }

    /// A warning.
    pub fn warning(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    /// Adds a note shown under the caret line.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Human rendering: header, source line, caret line, notes. Ends with `\n`.
    pub fn render(&self, sources: &SourceMap) -> String {
        let (start, end) = sources.span_lines(self.span);
        let path = sources.path(self.span.file);
        let mut out = format!(
            "{path}:{}:{}: {}[{}]: {}\n",
            start.line,
            start.col,
            self.severity.as_str(),
            self.code.as_str(),
            self.message
        );
        if let Some(file) = sources.get(self.span.file) {
            let text = file.line_text(start.line);
            let _ = writeln!(out, "{text}");
            let mut caret = String::new();
            for ch in text.chars().take(start.col.saturating_sub(1)) {
                caret.push(if ch == '\t' { '\t' } else { ' ' });
            }
            let width = if end.line == start.line {
                end.col.saturating_sub(start.col).max(1)
            } else {
                text.chars().count().saturating_sub(start.col - 1).max(1)
            };
            caret.push_str(&"^".repeat(width));
            let _ = writeln!(out, "{caret}");
        }
        for note in &self.notes {
            let _ = writeln!(out, "  = note: {note}");
        }
        out
    }

    /// The JSON object for this diagnostic.
    pub fn to_json(&self, sources: &SourceMap) -> JsonDiagnostic {
        let (start, end) = sources.span_lines(self.span);
        JsonDiagnostic {
            file: sources.path(self.span.file).to_string(),
            line: start.line,
            col: start.col,
            end_line: end.line,
            end_col: end.col,
            severity: self.severity,
            code: self.code.as_str(),
            message: self.message.clone(),
        }
    }
}

/// The serialisable form of a diagnostic.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct JsonDiagnostic {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub end_line: usize,
    pub end_col: usize,
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
}

/// Renders all diagnostics in the human form, in the given order.
pub fn render_all(sources: &SourceMap, diags: &[Diagnostic]) -> String {
    diags.iter().map(|d| d.render(sources)).collect()
}

/// Renders all diagnostics as a JSON array.
pub fn render_json(sources: &SourceMap, diags: &[Diagnostic]) -> String {
    let items: Vec<JsonDiagnostic> = diags.iter().map(|d| d.to_json(sources)).collect();
    serde_json::to_string(&items).unwrap_or_else(|_| "[]".to_string())
}

/// Sorts diagnostics by file, position, then severity, so output is stable.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (a.span.file, a.span.start, a.severity, a.code.as_str()).cmp(&(
            b.span.file,
            b.span.start,
            b.severity,
            b.code.as_str(),
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn map() -> SourceMap {
        let mut m = SourceMap::new();
        m.add("main.mpl", "fn main() do\n  let x :: Int = \"a\"\nend\n");
        m
    }

    #[test]
    fn renders_header_source_line_and_carets() {
        let d = Diagnostic::error(
            Code::TypeMismatch,
            Span::new(FileId(0), 30, 33),
            "type mismatch",
        )
        .with_note("expected Int");
        assert_eq!(
            d.render(&map()),
            "main.mpl:2:18: error[E0302]: type mismatch\n  let x :: Int = \"a\"\n                 ^^^\n  = note: expected Int\n"
        );
    }

    #[test]
    fn json_has_the_documented_fields() {
        let d = Diagnostic::warning(Code::NonExhaustive, Span::new(FileId(0), 0, 2), "m");
        let v: serde_json::Value = serde_json::from_str(&render_json(&map(), &[d])).unwrap();
        assert_eq!(
            v,
            serde_json::json!([{"file":"main.mpl","line":1,"col":1,"end_line":1,"end_col":3,
                "severity":"warning","code":"W0001","message":"m"}])
        );
    }

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {}", c.as_str());
        }
    }

    #[test]
    fn zero_width_span_still_gets_one_caret() {
        let d = Diagnostic::error(Code::UnexpectedToken, Span::new(FileId(0), 0, 0), "x");
        assert!(d.render(&map()).ends_with("fn main() do\n^\n"));
    }
}
