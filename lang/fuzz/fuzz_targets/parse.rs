//! Parses and checks arbitrary UTF-8 as a one-file project; nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let _ = mesh_lang::parse_file(src);
        let _ = mesh_lang::check_project(&[("main.mpl", src)]);
    }
});
