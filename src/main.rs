//! The `probcurrent` command-line tool; see `probcurrent --help`.

fn main() -> std::process::ExitCode {
    probcurrent::cli::main()
}
