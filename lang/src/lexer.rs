//! The lexer: source text to [`Token`]s.
//!
//! Implements the lexical structure of `shared/LANGUAGE.md`:
//! - comments `#`, `##`, `##!` (to end of line) and nestable `#= ... =#`;
//! - statement ends: a newline or `;` becomes one [`TokenKind::Newline`],
//!   except inside `()`, `[]`, `{}` and `%{}`, after a line ending in `|>`/`|N>`
//!   and before a line starting with one. A `do ... end` block or a closure
//!   body (`fn x -> ... end`) inside brackets makes newlines significant again,
//!   so multi-line closures work as call arguments;
//! - strings with escapes and `${...}`/`#{...}` interpolation lexed as nested
//!   token sequences; heredocs `"""` with indentation stripping;
//! - integers (decimal, `0x`, `0b`, `0o`, `_`), floats, atoms, keywords and
//!   operators.
//!
//! The lexer never panics: a bad character becomes a diagnostic and is
//! skipped, an unterminated string or comment is reported and closed at the
//! end of input.

use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::token::{StrPart, Token, TokenKind};

/// Nested interpolations deeper than this are rejected.
const MAX_INTERP_DEPTH: u32 = 32;

/// Lexes `src` (file `file`). The token list always ends with `Eof`.
pub fn lex(file: FileId, src: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    let mut lx = Lexer {
        src,
        pos: 0,
        file,
        diags: Vec::new(),
        interp_depth: 0,
    };
    let (tokens, _) = lx.run(false);
    (tokens, lx.diags)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ctx {
    Paren,
    Bracket,
    Brace,
    Block,
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    file: FileId,
    diags: Vec<Diagnostic>,
    interp_depth: u32,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_pipe(k: &TokenKind) -> bool {
    matches!(k, TokenKind::Pipe | TokenKind::PipeN(_))
}

impl<'a> Lexer<'a> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    fn peek(&self) -> Option<char> {
        self.src.get(self.pos..)?.chars().next()
    }

    fn peek_at(&self, off: usize) -> Option<char> {
        self.src.get(self.pos + off..)?.chars().next()
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn error(&mut self, code: Code, start: usize, end: usize, msg: impl Into<String>) {
        let span = self.span(start, end);
        self.diags.push(Diagnostic::error(code, span, msg));
    }

    /// Lexes tokens until end of input or, inside an interpolation, the `}`
    /// that closes it. Returns the tokens (ending in `Eof`) and whether the
    /// interpolation was closed.
    fn run(&mut self, in_interp: bool) -> (Vec<Token>, bool) {
        let mut out: Vec<Token> = Vec::new();
        let mut stack: Vec<Ctx> = if in_interp { vec![Ctx::Brace] } else { vec![] };
        let mut pending_nl: Option<Span> = None;
        let mut skip_next_do = false;
        let mut closed = false;
        loop {
            self.skip_trivia();
            let start = self.pos;
            let Some(c) = self.peek() else { break };
            if c == '\n' || c == ';' {
                self.pos += 1;
                if matches!(stack.last(), None | Some(Ctx::Block)) && pending_nl.is_none() {
                    pending_nl = Some(self.span(start, start + 1));
                }
                continue;
            }
            if c == '}' && in_interp && stack.len() == 1 {
                self.pos += 1;
                closed = true;
                break;
            }
            let Some(kind) = self.token(c) else { continue };
            let span = self.span(start, self.pos);
            if let Some(nl) = pending_nl.take() {
                let last_ok = out
                    .last()
                    .is_some_and(|t| !is_pipe(&t.kind) && t.kind != TokenKind::Newline);
                if last_ok && !is_pipe(&kind) {
                    out.push(Token {
                        kind: TokenKind::Newline,
                        span: nl,
                    });
                }
            }
            match &kind {
                TokenKind::LParen => stack.push(Ctx::Paren),
                TokenKind::LBracket => stack.push(Ctx::Bracket),
                TokenKind::LBrace | TokenKind::PercentBrace => stack.push(Ctx::Brace),
                TokenKind::RParen => pop_to(&mut stack, Ctx::Paren),
                TokenKind::RBracket => pop_to(&mut stack, Ctx::Bracket),
                TokenKind::RBrace => pop_to(&mut stack, Ctx::Brace),
                TokenKind::If => {
                    skip_next_do = out.last().is_some_and(|t| t.kind == TokenKind::Else);
                }
                TokenKind::Do => {
                    if skip_next_do {
                        skip_next_do = false;
                    } else {
                        stack.push(Ctx::Block);
                    }
                }
                TokenKind::Fn if self.closure_follows() => stack.push(Ctx::Block),
                TokenKind::End if stack.last() == Some(&Ctx::Block) => {
                    stack.pop();
                }
                _ => {}
            }
            out.push(Token { kind, span });
        }
        let end = self.pos;
        out.push(Token {
            kind: TokenKind::Eof,
            span: self.span(end, end),
        });
        (out, closed)
    }

    /// After the `fn` keyword: true unless `name(` or `name<` follows (a
    /// named function, whose body is `do ... end` or `= expr`).
    fn closure_follows(&self) -> bool {
        let rest = self.rest().trim_start_matches([' ', '\t']);
        let mut chars = rest.chars();
        match chars.next() {
            Some(c) if is_ident_start(c) => {}
            _ => return true,
        }
        let after = rest.trim_start_matches(is_ident_char);
        let after = after.trim_start_matches([' ', '\t']);
        !(after.starts_with('(') || after.starts_with('<'))
    }

    fn skip_trivia(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\r') => self.pos += 1,
                Some('#') if self.peek_at(1) == Some('=') => self.block_comment(),
                Some('#') => {
                    let rest = self.rest();
                    self.pos += rest.find('\n').unwrap_or(rest.len());
                }
                _ => return,
            }
        }
    }

    fn block_comment(&mut self) {
        let start = self.pos;
        self.pos += 2;
        let mut depth = 1u32;
        while depth > 0 {
            let rest = self.rest();
            if rest.is_empty() {
                self.error(
                    Code::UnterminatedComment,
                    start,
                    start + 2,
                    "unterminated block comment: `#=` needs a matching `=#`",
                );
                return;
            }
            if rest.starts_with("#=") {
                depth += 1;
                self.pos += 2;
            } else if rest.starts_with("=#") {
                depth -= 1;
                self.pos += 2;
            } else {
                self.bump();
            }
        }
    }

    /// Lexes one token starting with `c`. `None` means nothing was produced
    /// (an error was reported and the character skipped).
    fn token(&mut self, c: char) -> Option<TokenKind> {
        let start = self.pos;
        if c.is_ascii_digit() {
            return Some(self.number());
        }
        if is_ident_start(c) {
            let rest = self.rest();
            let len = rest
                .find(|ch: char| !is_ident_char(ch))
                .unwrap_or(rest.len());
            let word = &rest[..len];
            self.pos += len;
            return Some(
                TokenKind::keyword(word).unwrap_or_else(|| TokenKind::Ident(word.to_string())),
            );
        }
        if c == '"' {
            return Some(if self.rest().starts_with("\"\"\"") {
                self.heredoc()
            } else {
                self.string()
            });
        }
        let two = |a: char, b: char| c == a && self.peek_at(1) == Some(b);
        let (kind, len) = if two('|', '>') {
            (TokenKind::Pipe, 2)
        } else if c == '|' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) {
            let digits: String = self.rest()[1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if self.peek_at(1 + digits.len()) == Some('>') {
                let n = digits.parse::<u32>().unwrap_or(u32::MAX);
                (TokenKind::PipeN(n), digits.len() + 2)
            } else {
                (TokenKind::Bar, 1)
            }
        } else if two('|', '|') {
            (TokenKind::OrOr, 2)
        } else if c == '|' {
            (TokenKind::Bar, 1)
        } else if two('&', '&') {
            (TokenKind::AndAnd, 2)
        } else if two('=', '=') {
            (TokenKind::EqEq, 2)
        } else if two('=', '>') {
            (TokenKind::FatArrow, 2)
        } else if c == '=' {
            (TokenKind::Eq, 1)
        } else if two('!', '=') {
            (TokenKind::NotEq, 2)
        } else if c == '!' {
            (TokenKind::Bang, 1)
        } else if two('<', '=') {
            (TokenKind::Le, 2)
        } else if two('<', '>') {
            (TokenKind::Diamond, 2)
        } else if c == '<' {
            (TokenKind::Lt, 1)
        } else if two('>', '=') {
            (TokenKind::Ge, 2)
        } else if c == '>' {
            (TokenKind::Gt, 1)
        } else if two('.', '.') {
            (TokenKind::DotDot, 2)
        } else if c == '.' {
            (TokenKind::Dot, 1)
        } else if two('+', '+') {
            (TokenKind::PlusPlus, 2)
        } else if c == '+' {
            (TokenKind::Plus, 1)
        } else if two('-', '>') {
            (TokenKind::Arrow, 2)
        } else if c == '-' {
            (TokenKind::Minus, 1)
        } else if c == '*' {
            (TokenKind::Star, 1)
        } else if c == '/' {
            (TokenKind::Slash, 1)
        } else if two('%', '{') {
            (TokenKind::PercentBrace, 2)
        } else if c == '%' {
            (TokenKind::Percent, 1)
        } else if c == '?' {
            (TokenKind::Question, 1)
        } else if c == ',' {
            (TokenKind::Comma, 1)
        } else if c == '(' {
            (TokenKind::LParen, 1)
        } else if c == ')' {
            (TokenKind::RParen, 1)
        } else if c == '[' {
            (TokenKind::LBracket, 1)
        } else if c == ']' {
            (TokenKind::RBracket, 1)
        } else if c == '{' {
            (TokenKind::LBrace, 1)
        } else if c == '}' {
            (TokenKind::RBrace, 1)
        } else if two(':', ':') {
            (TokenKind::ColonColon, 2)
        } else if c == ':' && self.atom_follows() {
            self.pos += 1;
            let rest = self.rest();
            let len = rest
                .find(|ch: char| !is_ident_char(ch))
                .unwrap_or(rest.len());
            let name = rest[..len].to_string();
            self.pos += len;
            return Some(TokenKind::Atom(name));
        } else if c == ':' {
            (TokenKind::Colon, 1)
        } else if c == '@' {
            (TokenKind::At, 1)
        } else {
            self.bump();
            let shown = c.escape_debug();
            self.error(
                Code::UnexpectedChar,
                start,
                self.pos,
                format!("unexpected character `{shown}`"),
            );
            return None;
        };
        self.pos += len;
        Some(kind)
    }

    /// `:name` is an atom when a name starts right after the colon and the
    /// colon does not end a word (`key: value`, `x:y`).
    fn atom_follows(&self) -> bool {
        let next_ok = self.peek_at(1).is_some_and(is_ident_start);
        let prev = self.src.get(..self.pos).and_then(|s| s.chars().next_back());
        let prev_ok = !prev.is_some_and(|p| is_ident_char(p) || matches!(p, ')' | ']' | '}' | '"'));
        next_ok && prev_ok
    }

    fn number(&mut self) -> TokenKind {
        let start = self.pos;
        let rest = self.rest();
        let radix = match rest.get(..2) {
            Some("0x" | "0X") => 16,
            Some("0b" | "0B") => 2,
            Some("0o" | "0O") => 8,
            _ => 10,
        };
        if radix != 10 {
            self.pos += 2;
            let body = self.take_while(|c| c.is_ascii_alphanumeric() || c == '_');
            let digits: String = body.chars().filter(|&c| c != '_').collect();
            return match i64::from_str_radix(&digits, radix) {
                Ok(n) if !digits.is_empty() => TokenKind::Int(n),
                _ => {
                    let text = self.src.get(start..self.pos).unwrap_or("").to_string();
                    self.error(
                        Code::BadNumber,
                        start,
                        self.pos,
                        format!("invalid integer literal `{text}`"),
                    );
                    TokenKind::Int(0)
                }
            };
        }
        self.take_while(|c| c.is_ascii_digit() || c == '_');
        let mut is_float = false;
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            is_float = true;
            self.pos += 1;
            self.take_while(|c| c.is_ascii_digit() || c == '_');
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let sign = usize::from(matches!(self.peek_at(1), Some('+' | '-')));
            if self.peek_at(1 + sign).is_some_and(|c| c.is_ascii_digit()) {
                is_float = true;
                self.pos += 1 + sign;
                self.take_while(|c| c.is_ascii_digit());
            }
        }
        // A letter glued to a number (`12abc`) is an error, not two tokens.
        if self.peek().is_some_and(is_ident_start) {
            self.take_while(is_ident_char);
            let text = self.src.get(start..self.pos).unwrap_or("").to_string();
            self.error(
                Code::BadNumber,
                start,
                self.pos,
                format!("invalid number literal `{text}`"),
            );
            return TokenKind::Int(0);
        }
        let text: String = self
            .src
            .get(start..self.pos)
            .unwrap_or("")
            .chars()
            .filter(|&c| c != '_')
            .collect();
        if is_float {
            match text.parse::<f64>() {
                Ok(x) if x.is_finite() => TokenKind::Float(x),
                _ => {
                    self.error(
                        Code::BadNumber,
                        start,
                        self.pos,
                        format!("float literal `{text}` is out of range"),
                    );
                    TokenKind::Float(0.0)
                }
            }
        } else {
            match text.parse::<i64>() {
                Ok(n) => TokenKind::Int(n),
                // 2^63 fits only negated (`-9223372036854775808`): it is
                // lexed as `i64::MIN`, which no other literal gives, and the
                // parser accepts it only right after a prefix `-`.
                Err(_) if text == "9223372036854775808" => TokenKind::Int(i64::MIN),
                Err(_) => {
                    self.error(
                        Code::BadNumber,
                        start,
                        self.pos,
                        format!("integer literal `{text}` does not fit in 64 bits"),
                    );
                    TokenKind::Int(0)
                }
            }
        }
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.bump();
        }
        self.src.get(start..self.pos).unwrap_or("")
    }

    fn string(&mut self) -> TokenKind {
        let start = self.pos;
        self.pos += 1;
        let mut parts = Vec::new();
        let mut lit = String::new();
        loop {
            let Some(c) = self.peek() else {
                self.error(
                    Code::UnterminatedString,
                    start,
                    start + 1,
                    "unterminated string: missing closing `\"`",
                );
                break;
            };
            match c {
                '"' => {
                    self.pos += 1;
                    break;
                }
                '\\' => self.escape(&mut lit),
                '$' | '#' if self.peek_at(1) == Some('{') => {
                    if !self.interpolation(&mut parts, &mut lit, start) {
                        break;
                    }
                }
                _ => {
                    self.bump();
                    lit.push(c);
                }
            }
        }
        if !lit.is_empty() || parts.is_empty() {
            parts.push(StrPart::Lit(lit));
        }
        TokenKind::Str(parts)
    }

    fn escape(&mut self, lit: &mut String) {
        let start = self.pos;
        self.pos += 1;
        match self.bump() {
            Some('u') if self.peek() == Some('{') => self.unicode_escape(start, lit),
            Some('n') => lit.push('\n'),
            Some('t') => lit.push('\t'),
            Some('r') => lit.push('\r'),
            Some('0') => lit.push('\0'),
            Some(other) => lit.push(other),
            None => {}
        }
    }

    /// After `\u` at `{`: `\u{1F389}`, 1 to 6 hex digits naming a Unicode
    /// scalar value (as upstream). `start` is the backslash.
    fn unicode_escape(&mut self, start: usize, lit: &mut String) {
        self.pos += 1;
        let digits = self.take_while(|c| c.is_ascii_hexdigit()).to_string();
        let closed = self.peek() == Some('}');
        if closed {
            self.pos += 1;
        }
        let c = u32::from_str_radix(&digits, 16)
            .ok()
            .filter(|_| closed && (1..=6).contains(&digits.len()))
            .and_then(char::from_u32);
        match c {
            Some(c) => lit.push(c),
            None => self.error(
                Code::BadEscape,
                start,
                self.pos,
                "a `\\u{...}` escape needs 1 to 6 hex digits naming a Unicode character, then `}`",
            ),
        }
    }

    /// At `${` or `#{`: lexes the interpolation. Returns false if input ran
    /// out before its `}` (already reported).
    fn interpolation(
        &mut self,
        parts: &mut Vec<StrPart>,
        lit: &mut String,
        str_start: usize,
    ) -> bool {
        if !lit.is_empty() {
            parts.push(StrPart::Lit(std::mem::take(lit)));
        }
        let open = self.pos;
        self.pos += 2;
        let inner_start = self.pos;
        if self.interp_depth >= MAX_INTERP_DEPTH {
            self.error(
                Code::UnterminatedString,
                open,
                open + 2,
                "string interpolations nested too deeply",
            );
            // Skip to the end of input: nothing after this can be trusted.
            self.pos = self.src.len();
            return false;
        }
        self.interp_depth += 1;
        let (tokens, closed) = self.run(true);
        self.interp_depth -= 1;
        if !closed {
            self.error(
                Code::UnterminatedString,
                str_start,
                str_start + 1,
                "unterminated string: an interpolation is missing its closing `}`",
            );
            return false;
        }
        let inner_end = self.pos.saturating_sub(1);
        parts.push(StrPart::Interp(tokens, self.span(inner_start, inner_end)));
        true
    }

    fn heredoc(&mut self) -> TokenKind {
        let start = self.pos;
        self.pos += 3;
        // Drop the rest of the opening line if it is blank, and its newline.
        let rest = self.rest();
        let blank = rest.find('\n').filter(|&i| rest[..i].trim().is_empty());
        if let Some(i) = blank {
            self.pos += i + 1;
        }
        let content_start = self.pos;
        let Some(close) = self.find_heredoc_close() else {
            self.error(
                Code::UnterminatedString,
                start,
                start + 3,
                "unterminated heredoc: missing closing `\"\"\"`",
            );
            self.pos = self.src.len();
            return TokenKind::Str(vec![StrPart::Lit(String::new())]);
        };
        let before = self.src.get(content_start..close).unwrap_or("");
        let line_start = before
            .rfind('\n')
            .map_or(content_start, |i| content_start + i + 1);
        let closing_prefix = self.src.get(line_start..close).unwrap_or("");
        let (indent, content_end) = if closing_prefix.chars().all(|c| c == ' ' || c == '\t') {
            let end = if line_start > content_start {
                line_start - 1
            } else {
                content_start
            };
            (closing_prefix.chars().count(), end)
        } else {
            (0, close)
        };
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut at_line_start = true;
        while self.pos < content_end {
            if at_line_start {
                at_line_start = false;
                let mut stripped = 0;
                while stripped < indent
                    && self.pos < content_end
                    && matches!(self.peek(), Some(' ' | '\t'))
                {
                    self.pos += 1;
                    stripped += 1;
                }
                continue;
            }
            let Some(c) = self.peek() else { break };
            match c {
                '\\' => self.escape(&mut lit),
                '$' | '#' if self.peek_at(1) == Some('{') => {
                    if !self.interpolation(&mut parts, &mut lit, start) {
                        break;
                    }
                }
                '\n' => {
                    self.pos += 1;
                    lit.push('\n');
                    at_line_start = true;
                }
                _ => {
                    self.bump();
                    lit.push(c);
                }
            }
        }
        if !lit.is_empty() || parts.is_empty() {
            parts.push(StrPart::Lit(lit));
        }
        self.pos = self.pos.max(close + 3).min(self.src.len());
        TokenKind::Str(parts)
    }

    /// Byte offset of the closing `"""` of a heredoc whose content starts at
    /// the current position, skipping escapes and interpolations.
    fn find_heredoc_close(&self) -> Option<usize> {
        let bytes = self.src.as_bytes();
        let mut i = self.pos;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'$' | b'#' if bytes.get(i + 1) == Some(&b'{') => {
                    i = skip_braces(bytes, i + 2);
                }
                b'"' if bytes.get(i..i + 3) == Some(b"\"\"\"") => return Some(i),
                _ => i += 1,
            }
        }
        None
    }
}

/// From just after an opening `{`, returns the index after its matching `}`,
/// skipping over nested braces and quoted strings.
fn skip_braces(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 1usize;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

fn pop_to(stack: &mut Vec<Ctx>, want: Ctx) {
    if let Some(i) = stack.iter().rposition(|&c| c == want) {
        stack.truncate(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenKind as T;

    fn kinds(src: &str) -> Vec<TokenKind> {
        let (toks, diags) = lex(FileId(0), src);
        assert!(diags.is_empty(), "unexpected diagnostics: {diags:?}");
        toks.into_iter().map(|t| t.kind).collect()
    }

    fn id(s: &str) -> TokenKind {
        T::Ident(s.to_string())
    }

    fn lit(s: &str) -> TokenKind {
        T::Str(vec![StrPart::Lit(s.to_string())])
    }

    #[test]
    fn comments_of_every_kind_are_skipped() {
        assert_eq!(
            kinds("a # line\n## doc\n##! module doc\nb #= block #= nested =# still =# c"),
            vec![id("a"), T::Newline, id("b"), id("c"), T::Eof]
        );
    }

    #[test]
    fn unterminated_block_comment_is_reported() {
        let (toks, diags) = lex(FileId(0), "a #= #= =#");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, Code::UnterminatedComment);
        assert_eq!(toks.len(), 2);
    }

    #[test]
    fn newlines_and_semicolons_end_statements_once() {
        assert_eq!(
            kinds("a\n\n\nb; c\n"),
            vec![id("a"), T::Newline, id("b"), T::Newline, id("c"), T::Eof]
        );
        // No leading newline token.
        assert_eq!(kinds("\n\na"), vec![id("a"), T::Eof]);
    }

    #[test]
    fn newlines_inside_brackets_are_ignored() {
        assert_eq!(
            kinds("f(a,\n b)\n[1,\n2]\n%{\n}"),
            vec![
                id("f"),
                T::LParen,
                id("a"),
                T::Comma,
                id("b"),
                T::RParen,
                T::Newline,
                T::LBracket,
                T::Int(1),
                T::Comma,
                T::Int(2),
                T::RBracket,
                T::Newline,
                T::PercentBrace,
                T::RBrace,
                T::Eof
            ]
        );
    }

    #[test]
    fn blocks_and_closures_inside_brackets_make_newlines_significant() {
        let k = kinds("f(fn x ->\n a\n b\nend,\n 1)");
        assert_eq!(
            k,
            vec![
                id("f"),
                T::LParen,
                T::Fn,
                id("x"),
                T::Arrow,
                T::Newline,
                id("a"),
                T::Newline,
                id("b"),
                T::Newline,
                T::End,
                T::Comma,
                T::Int(1),
                T::RParen,
                T::Eof
            ]
        );
        let k = kinds("g(case x do\n1 -> 2\nend)");
        assert!(k.contains(&T::Newline));
        // A named function inside a block does not open a closure body.
        let k = kinds("interface S do\nfn show(self) -> String\nend\nx");
        assert_eq!(k.iter().filter(|t| **t == T::Newline).count(), 3);
    }

    #[test]
    fn pipes_continue_lines_both_ways() {
        assert_eq!(
            kinds("x |>\n f()\ny\n |> g()\n |2> h()"),
            vec![
                id("x"),
                T::Pipe,
                id("f"),
                T::LParen,
                T::RParen,
                T::Newline,
                id("y"),
                T::Pipe,
                id("g"),
                T::LParen,
                T::RParen,
                T::PipeN(2),
                id("h"),
                T::LParen,
                T::RParen,
                T::Eof
            ]
        );
    }

    #[test]
    fn else_if_shares_one_end() {
        // `if` after `else` does not push a block: inside parens, the
        // newline after the final `end` is ignored again.
        let k = kinds("f(if a do\n1\nelse if b do\n2\nend\n)");
        assert_eq!(k[k.len() - 2], T::RParen);
        assert_eq!(k[k.len() - 3], T::End);
    }

    #[test]
    fn string_escapes() {
        assert_eq!(
            kinds(r#""a\n\t\r\0\\\"\q""#),
            vec![lit("a\n\t\r\0\\\"q"), T::Eof]
        );
        assert_eq!(kinds(r#""""#), vec![lit(""), T::Eof]);
        assert_eq!(
            kinds(r#""\u{1F389}\u{e9}\u{41}""#),
            vec![lit("\u{1F389}\u{e9}A"), T::Eof]
        );
        assert_eq!(kinds(r#""cost: $5 #1""#), vec![lit("cost: $5 #1"), T::Eof]);
    }

    #[test]
    fn interpolation_is_lexed_as_nested_tokens() {
        let k = kinds(r#""a${x + 1}b#{f("}")}""#);
        let T::Str(parts) = &k[0] else {
            panic!("not a string: {k:?}")
        };
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], StrPart::Lit("a".into()));
        let StrPart::Interp(toks, _) = &parts[1] else {
            panic!()
        };
        let inner: Vec<_> = toks.iter().map(|t| t.kind.clone()).collect();
        assert_eq!(inner, vec![id("x"), T::Plus, T::Int(1), T::Eof]);
        assert_eq!(parts[2], StrPart::Lit("b".into()));
        let StrPart::Interp(toks, _) = &parts[3] else {
            panic!()
        };
        let inner: Vec<_> = toks.iter().map(|t| t.kind.clone()).collect();
        assert_eq!(inner, vec![id("f"), T::LParen, lit("}"), T::RParen, T::Eof]);
        // Braces inside an interpolation nest.
        let k = kinds(r#""${%{1 => 2}}""#);
        let T::Str(parts) = &k[0] else { panic!() };
        assert_eq!(parts.len(), 1);
    }

    #[test]
    fn unterminated_strings_are_reported() {
        for src in ["\"abc", "\"a${x", "\"\"\"\nabc"] {
            let (toks, diags) = lex(FileId(0), src);
            assert_eq!(diags.len(), 1, "{src}: {diags:?}");
            assert_eq!(diags[0].code, Code::UnterminatedString);
            assert_eq!(toks.last().map(|t| &t.kind), Some(&T::Eof));
        }
    }

    #[test]
    fn heredoc_strips_closing_indentation_and_edges() {
        let src = "x = \"\"\"\n    hello\n      world ${n}\n    \"\"\"\ny";
        let k = kinds(src);
        let T::Str(parts) = &k[2] else {
            panic!("{k:?}")
        };
        assert_eq!(parts[0], StrPart::Lit("hello\n  world ".into()));
        assert!(matches!(parts[1], StrPart::Interp(..)));
        assert_eq!(parts.len(), 2);
        assert_eq!(k[3], T::Newline);
        assert_eq!(k[4], id("y"));
        // Closing quotes on a content line keep everything.
        assert_eq!(kinds("\"\"\"one line\"\"\""), vec![lit("one line"), T::Eof]);
        assert_eq!(kinds("\"\"\"\n\"\"\""), vec![lit(""), T::Eof]);
    }

    #[test]
    fn integers_in_every_base_and_floats() {
        assert_eq!(
            kinds("42 1_000 0xff 0b1010 0o17 1.5 2.0e3 1e-2 2.5"),
            vec![
                T::Int(42),
                T::Int(1000),
                T::Int(255),
                T::Int(10),
                T::Int(15),
                T::Float(1.5),
                T::Float(2000.0),
                T::Float(0.01),
                T::Float(2.5),
                T::Eof
            ]
        );
        // `1..5` is a range, not a float.
        assert_eq!(kinds("1..5"), vec![T::Int(1), T::DotDot, T::Int(5), T::Eof]);
        // A leading minus is an operator.
        assert_eq!(kinds("-1"), vec![T::Minus, T::Int(1), T::Eof]);
    }

    #[test]
    fn bad_numbers_are_reported() {
        for src in ["99999999999999999999", "0x", "0b102", "12abc"] {
            let (_, diags) = lex(FileId(0), src);
            assert_eq!(diags.len(), 1, "{src}");
            assert_eq!(diags[0].code, Code::BadNumber);
        }
    }

    #[test]
    fn atoms_versus_colons() {
        assert_eq!(
            kinds("(:nodedown, n) x :: Int k: v :ok"),
            vec![
                T::LParen,
                T::Atom("nodedown".into()),
                T::Comma,
                id("n"),
                T::RParen,
                id("x"),
                T::ColonColon,
                id("Int"),
                id("k"),
                T::Colon,
                id("v"),
                T::Atom("ok".into()),
                T::Eof
            ]
        );
    }

    #[test]
    fn keywords_and_operators() {
        assert_eq!(
            kinds("fn def pub actor self spawn receive after when not and or"),
            vec![
                T::Fn,
                T::Def,
                T::Pub,
                T::Actor,
                T::SelfKw,
                T::Spawn,
                T::Receive,
                T::After,
                T::When,
                T::Not,
                T::And,
                T::Or,
                T::Eof
            ]
        );
        assert_eq!(
            kinds("|> |3> || && == != < > <= >= .. <> ++ + - * / % ! ? . , = -> => :: : | @"),
            vec![
                T::Pipe,
                T::PipeN(3),
                T::OrOr,
                T::AndAnd,
                T::EqEq,
                T::NotEq,
                T::Lt,
                T::Gt,
                T::Le,
                T::Ge,
                T::DotDot,
                T::Diamond,
                T::PlusPlus,
                T::Plus,
                T::Minus,
                T::Star,
                T::Slash,
                T::Percent,
                T::Bang,
                T::Question,
                T::Dot,
                T::Comma,
                T::Eq,
                T::Arrow,
                T::FatArrow,
                T::ColonColon,
                T::Colon,
                T::Bar,
                T::At,
                T::Eof
            ]
        );
    }

    #[test]
    fn bad_characters_become_diagnostics_and_lexing_continues() {
        let (toks, diags) = lex(FileId(0), "a ` b € c");
        assert_eq!(diags.len(), 2);
        assert!(diags.iter().all(|d| d.code == Code::UnexpectedChar));
        assert_eq!(toks.len(), 4);
        assert_eq!(diags[1].span, Span::new(FileId(0), 6, 9));
    }

    #[test]
    fn spans_cover_the_token_text() {
        let (toks, _) = lex(FileId(0), "let abc = 12");
        assert_eq!(toks[1].span, Span::new(FileId(0), 4, 7));
        assert_eq!(toks[3].span, Span::new(FileId(0), 10, 12));
    }
}
