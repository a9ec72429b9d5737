//! refpm's ecosystem parser: any text, as YAML and as JSON, must give apps or an error — never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // the first byte picks the syntax so both parsers see every input shape
    let yaml = data.first().is_some_and(|b| b & 1 == 1);
    let _ = refpm::config::parse_ecosystem_text(text, yaml, "fuzz.config", Path::new("/tmp"));
});
