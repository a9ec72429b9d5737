//! Free local ports, never handed out twice by one `conform` process.

use std::collections::HashSet;
use std::sync::Mutex;

static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A port that is free for both TCP and UDP on 127.0.0.1 right now and was not handed out before.
pub fn free_port() -> std::io::Result<u16> {
    for _ in 0..200 {
        let port = osfacts::free_port()?;
        let mut g = GIVEN.lock().unwrap();
        if g.get_or_insert_with(HashSet::new).insert(port) {
            return Ok(port);
        }
    }
    Err(std::io::Error::other("no free port found"))
}
