//! The `probcurrent` command-line tool; see `probcurrent --help`. Argument parsing and
//! printing only (`cli/`); everything it computes is a call into the library.

mod cli;

fn main() -> std::process::ExitCode {
    // Behave like other command-line tools when the reader goes away
    // (`probcurrent schemes | head -1`): end quietly on SIGPIPE instead of
    // panicking inside `println!`.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any other thread
    // exists; no Rust invariants depend on it.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    cli::main()
}
