//! `meshc`: see the library for the commands.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    mesh_cli::main()
}
