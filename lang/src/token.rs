//! Token kinds produced by the lexer and consumed by the parser.
//!
//! A string literal is one token whose parts are literal text and nested
//! token sequences (its `${...}`/`#{...}` interpolations), so the parser never
//! re-lexes string contents.

use crate::source::Span;
use std::fmt;

/// One token with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// A piece of a string literal.
#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    /// Literal text with escapes already applied.
    Lit(String),
    /// An interpolation: the tokens between `${`/`#{` and `}` (ending in
    /// `Eof`), and the span of those contents.
    Interp(Vec<Token>, Span),
}

macro_rules! keywords {
    ($($name:ident = $text:literal,)*) => {
        /// Every token kind.
        #[derive(Clone, Debug, PartialEq)]
        pub enum TokenKind {
            Int(i64),
            Float(f64),
            Str(Vec<StrPart>),
            /// `:name`, without the colon.
            Atom(String),
            Ident(String),
            $($name,)*
            /// `|>`
            Pipe,
            /// `|N>`: pipe into argument position N (1-based).
            PipeN(u32),
            OrOr, AndAnd, EqEq, NotEq, Lt, Gt, Le, Ge, DotDot, Diamond, PlusPlus,
            Plus, Minus, Star, Slash, Percent, Bang, Question, Dot, Comma,
            LParen, RParen, LBracket, RBracket, LBrace, RBrace,
            /// `%{`
            PercentBrace,
            Eq, Arrow, FatArrow, ColonColon, Colon, Bar, At,
            /// A statement end: a significant newline or `;`.
            Newline,
            Eof,
        }

        impl TokenKind {
            /// The keyword spelled `word`, if it is one.
            pub fn keyword(word: &str) -> Option<TokenKind> {
                match word {
                    $($text => Some(TokenKind::$name),)*
                    _ => None,
                }
            }

            /// The keyword's spelling, if this is a keyword.
            pub fn keyword_text(&self) -> Option<&'static str> {
                match self {
                    $(TokenKind::$name => Some($text),)*
                    _ => None,
                }
            }
        }
    };
}

keywords! {
    Fn = "fn", Def = "def", Pub = "pub", Let = "let", Case = "case", Match = "match",
    If = "if", Else = "else", Do = "do", End = "end", Actor = "actor", Service = "service",
    Call = "call", Cast = "cast", Supervisor = "supervisor", Receive = "receive",
    After = "after", Send = "send", Spawn = "spawn", SelfKw = "self", Link = "link",
    Monitor = "monitor", Struct = "struct", Type = "type", Interface = "interface",
    Impl = "impl", Trait = "trait", Deriving = "deriving", Import = "import", From = "from",
    Module = "module", When = "when", Where = "where", For = "for", In = "in",
    While = "while", Break = "break", Continue = "continue", Return = "return",
    True = "true", False = "false", Nil = "nil", And = "and", Or = "or", Not = "not",
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(k) = self.keyword_text() {
            return write!(f, "`{k}`");
        }
        let s = match self {
            TokenKind::Int(n) => return write!(f, "integer `{n}`"),
            TokenKind::Float(x) => return write!(f, "float `{x}`"),
            TokenKind::Str(_) => "string",
            TokenKind::Atom(a) => return write!(f, "atom `:{a}`"),
            TokenKind::Ident(n) => return write!(f, "`{n}`"),
            TokenKind::Pipe => "`|>`",
            TokenKind::PipeN(n) => return write!(f, "`|{n}>`"),
            TokenKind::OrOr => "`||`",
            TokenKind::AndAnd => "`&&`",
            TokenKind::EqEq => "`==`",
            TokenKind::NotEq => "`!=`",
            TokenKind::Lt => "`<`",
            TokenKind::Gt => "`>`",
            TokenKind::Le => "`<=`",
            TokenKind::Ge => "`>=`",
            TokenKind::DotDot => "`..`",
            TokenKind::Diamond => "`<>`",
            TokenKind::PlusPlus => "`++`",
            TokenKind::Plus => "`+`",
            TokenKind::Minus => "`-`",
            TokenKind::Star => "`*`",
            TokenKind::Slash => "`/`",
            TokenKind::Percent => "`%`",
            TokenKind::Bang => "`!`",
            TokenKind::Question => "`?`",
            TokenKind::Dot => "`.`",
            TokenKind::Comma => "`,`",
            TokenKind::LParen => "`(`",
            TokenKind::RParen => "`)`",
            TokenKind::LBracket => "`[`",
            TokenKind::RBracket => "`]`",
            TokenKind::LBrace => "`{`",
            TokenKind::RBrace => "`}`",
            TokenKind::PercentBrace => "`%{`",
            TokenKind::Eq => "`=`",
            TokenKind::Arrow => "`->`",
            TokenKind::FatArrow => "`=>`",
            TokenKind::ColonColon => "`::`",
            TokenKind::Colon => "`:`",
            TokenKind::Bar => "`|`",
            TokenKind::At => "`@`",
            TokenKind::Newline => "end of line",
            TokenKind::Eof => "end of file",
            _ => "token",
        };
        f.write_str(s)
    }
}
