//! Locking that survives a panic elsewhere. Every mutex in refpm guards state that is consistent
//! between statements (a route table, a write queue, the process table), so a thread that panicked
//! while holding one leaves nothing half-written worth refusing; the supervisor must keep serving the
//! other apps rather than cascade the panic into every later lock. `std`'s mutex plus this helper
//! gives that without a new dependency (parking_lot's mutexes do not poison either, but would add a
//! crate for no other gain: no lock here is contended enough for its speed to matter).

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a mutex, recovering it when a panicking thread poisoned it.
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_lock_is_recovered_with_its_data() {
        let m = std::sync::Arc::new(Mutex::new(1));
        let m2 = m.clone();
        let _ = std::thread::spawn(move || {
            let mut g = m2.lock().unwrap();
            *g = 2;
            panic!("poison it");
        })
        .join();
        assert!(m.is_poisoned());
        assert_eq!(*lock(&m), 2);
    }
}
