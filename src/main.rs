//! The `kyso` binary: see `kyso --help`.

/// mimalloc for every allocation of the process, Rust's and the C
/// libraries' (the `override` feature replaces `malloc` and `free`): under
/// signing load glibc's allocator cost a few percent of the cores.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kyso::cli::main()
}
