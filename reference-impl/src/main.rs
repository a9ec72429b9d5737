//! `refpm` entry point; all logic lives in the library.

fn main() {
    std::process::exit(refpm::cli::run());
}
