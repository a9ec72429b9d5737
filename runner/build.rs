//! Rebuilds `conform` whenever a file under `suites/` or `fixtures/` is added, changed or removed, so
//! the copies embedded by `include_dir!` (see `src/builtin.rs`) always match the checkout.
//! (`include_dir` alone tracks only the files it saw; a directory given to `rerun-if-changed` is
//! scanned whole by cargo.)

fn main() {
    println!("cargo:rerun-if-changed=../suites");
    println!("cargo:rerun-if-changed=../fixtures");
    println!("cargo:rerun-if-changed=build.rs");
}
