//! Lexes arbitrary UTF-8; the lexer must never panic and must end in `Eof`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lang::source::FileId;
use mesh_lang::token::TokenKind;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let (tokens, _) = mesh_lang::lexer::lex(FileId(0), src);
        assert!(matches!(tokens.last().map(|t| &t.kind), Some(TokenKind::Eof)));
    }
});
