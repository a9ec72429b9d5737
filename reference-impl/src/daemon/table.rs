//! The process table: one [`Job`] per pm_id, and PM2's status values.

use std::collections::{BTreeMap, BTreeSet};

use super::job::Job;

pub use crate::protocol::record::Status;

/// All processes of one daemon.
#[derive(Default)]
pub struct Table {
    /// By pm_id (sorted).
    pub jobs: BTreeMap<u32, Job>,
    /// Next pm_id.
    pub next_id: u32,
}

impl Table {
    /// Takes the next pm_id.
    pub fn new_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Lowest free instance value among processes named `name` using variable `var`.
    pub fn free_instance_value(&self, name: &str, taken_extra: &BTreeSet<u64>) -> u64 {
        let used: BTreeSet<u64> = self
            .jobs
            .values()
            .filter(|p| p.spec.name == name)
            .map(|p| p.instance_value)
            .chain(taken_extra.iter().copied())
            .collect();
        (0..).find(|v| !used.contains(v)).unwrap_or(0)
    }

    /// Resolves a target string as PM2's `_operate`: `all`, name, script path, then numeric id.
    pub fn resolve(&self, target: &str) -> Vec<u32> {
        if target == "all" {
            return self.jobs.keys().copied().collect();
        }
        let abs = crate::home::absolutise(std::path::Path::new(target));
        let by_name: Vec<u32> = self
            .jobs
            .values()
            .filter(|p| p.spec.name == target || p.spec.script == abs)
            .map(|p| p.pm_id)
            .collect();
        if !by_name.is_empty() {
            return by_name;
        }
        if let Ok(id) = target.parse::<u32>()
            && self.jobs.contains_key(&id)
        {
            return vec![id];
        }
        vec![]
    }

    /// Ids of every process with this app name.
    pub fn ids_named(&self, name: &str) -> Vec<u32> {
        self.jobs
            .values()
            .filter(|p| p.spec.name == name)
            .map(|p| p.pm_id)
            .collect()
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A random v4 UUID string (from the OS RNG).
pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut b);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
