//! Waits the host can interrupt. A host thread blocked in the engine (Ruby's, with its GVL
//! released) must wake at once when its runtime has something for it (a signal, a kill), not
//! at the next timeout: each wait parks its thread, so an `Interrupt` unparks it whatever it
//! waits on, and a `Monitor`'s changes unpark the threads waiting for them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread::{self, Thread};
use std::time::Instant;

/// Asks a wait on one thread (the one that made it) to return early; another thread sets it.
pub struct Interrupt {
    set: AtomicBool,
    waiter: Thread,
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt {
            set: AtomicBool::new(false),
            waiter: thread::current(),
        }
    }
}

impl Interrupt {
    /// Makes the waiting thread's wait return (now, or at once if it has not begun).
    pub fn interrupt(&self) {
        self.set.store(true, Ordering::SeqCst);
        self.waiter.unpark();
    }

    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::SeqCst)
    }
}

struct Inner<T> {
    state: T,
    /// The threads parked until the state changes.
    waiting: Vec<Thread>,
}

/// State that threads wait on until it holds what they need.
pub struct Monitor<T> {
    inner: Mutex<Inner<T>>,
}

impl<T: Default> Default for Monitor<T> {
    fn default() -> Self {
        Monitor::new(T::default())
    }
}

impl<T> Monitor<T> {
    pub fn new(state: T) -> Self {
        Monitor {
            inner: Mutex::new(Inner {
                state,
                waiting: Vec::new(),
            }),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner<T>> {
        // A panicking holder leaves plain data behind: still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Looks at or changes the state, waking no one.
    pub fn with<R>(&self, work: impl FnOnce(&mut T) -> R) -> R {
        work(&mut self.inner().state)
    }

    /// Changes the state, then wakes up to `wake` of the waiting threads (each looks again).
    pub fn change<R>(&self, wake: usize, work: impl FnOnce(&mut T) -> R) -> R {
        let mut inner = self.inner();
        let result = work(&mut inner.state);
        let count = wake.min(inner.waiting.len());
        let woken: Vec<Thread> = inner.waiting.drain(..count).collect();
        drop(inner);
        woken.iter().for_each(Thread::unpark);
        result
    }

    /// Waits until `ready` gives a value; `None` once `deadline` passed (never if `None`) or
    /// `interrupt` was set. `interrupt` must have been made on this thread.
    pub fn wait<R>(
        &self,
        deadline: Option<Instant>,
        interrupt: &Interrupt,
        mut ready: impl FnMut(&mut T) -> Option<R>,
    ) -> Option<R> {
        let me = thread::current();
        let mut inner = self.inner();
        loop {
            if let Some(value) = ready(&mut inner.state) {
                return Some(value);
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if interrupt.is_set() || left.is_some_and(|l| l.is_zero()) {
                // A wake-up meant for this thread goes to another one.
                let woken = !inner.waiting.iter().any(|t| t.id() == me.id());
                inner.waiting.retain(|t| t.id() != me.id());
                if woken && !inner.waiting.is_empty() {
                    inner.waiting.remove(0).unpark();
                }
                return None;
            }
            if !inner.waiting.iter().any(|t| t.id() == me.id()) {
                inner.waiting.push(me.clone());
            }
            drop(inner);
            // An unpark between the unlock and here makes the park return at once.
            match left {
                Some(left) => thread::park_timeout(left),
                None => thread::park(),
            }
            inner = self.inner();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn an_interrupt_ends_a_wait_without_a_deadline() {
        let monitor = Arc::new(Monitor::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let monitor = Arc::clone(&monitor);
            std::thread::spawn(move || {
                let interrupt = Arc::new(Interrupt::default());
                tx.send(Arc::clone(&interrupt)).unwrap();
                monitor.wait(None, &interrupt, |done| done.then_some(()))
            })
        };
        rx.recv().unwrap().interrupt();
        assert_eq!(waiter.join().unwrap(), None);
    }

    #[test]
    fn a_change_wakes_a_waiter_and_a_deadline_ends_a_wait() {
        let monitor = Arc::new(Monitor::new(0));
        let waiter = {
            let monitor = Arc::clone(&monitor);
            std::thread::spawn(move || {
                monitor.wait(None, &Interrupt::default(), |n| (*n > 0).then_some(*n))
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        monitor.change(1, |n| *n = 7);
        assert_eq!(waiter.join().unwrap(), Some(7));
        let past = Some(Instant::now());
        assert_eq!(
            monitor.wait(past, &Interrupt::default(), |_| None::<()>),
            None
        );
    }
}
