//! The `kyso` binary: see `kyso --help`.

fn main() -> std::process::ExitCode {
    kyso::cli::main()
}
