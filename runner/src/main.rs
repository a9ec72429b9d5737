//! `conform` command-line entry point; all logic lives in the library.

fn main() {
    std::process::exit(conform::cli::main());
}
