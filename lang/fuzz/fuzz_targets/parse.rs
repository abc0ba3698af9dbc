//! Parses and checks arbitrary UTF-8 as a one-file project, and as a test
//! file of a one-module project; nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let _ = mesh_lang::parse_file(src);
        let _ = mesh_lang::check_project(&[("main.mpl", src)]);
        let files = [("main.mpl", "fn main() = ()\n"), ("main.test.mpl", src)];
        let map = mesh_lang::source::SourceMap::from_pairs(&files);
        let _ = mesh_lang::testing::compile_test_file(&files, 1, &map, Default::default());
    }
});
