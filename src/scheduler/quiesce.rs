//! The quiesce switch a stopping host sets, and the wait for runs still being handed over.

use super::Event;
use crate::mailbox;
use std::sync::Mutex;
use tokio::sync::Notify;

/// The host is stopping: once set, the scheduler claims no ledger-path run (it would not be
/// enqueued), and `Event::Quiesced` follows the last `Enqueue`: at once, unless a claim whose
/// runs go to the host is in flight (then when it is done), so a stop never waits on a
/// database that is away for anything else.
#[derive(Debug)]
pub struct Quiesce {
    state: Mutex<QuiesceState>,
    pub(super) wake: Notify,
}

#[derive(Debug)]
struct QuiesceState {
    set: bool,
    /// A claim whose runs go to the host is in flight.
    handing: bool,
    /// Taken when `Event::Quiesced` is sent.
    events: Option<mailbox::Sender<Event>>,
}

impl QuiesceState {
    fn tell_if_done(&mut self) {
        if self.set && !self.handing {
            if let Some(events) = self.events.take() {
                let _ = events.send(Event::Quiesced);
            }
        }
    }
}

/// While alive, a quiesce waits for the runs it is handing over.
pub(super) struct Handing<'a>(&'a Quiesce);

impl Drop for Handing<'_> {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.handing = false;
        state.tell_if_done();
    }
}

impl Quiesce {
    pub(super) fn new(events: mailbox::Sender<Event>) -> Quiesce {
        Quiesce {
            state: Mutex::new(QuiesceState {
                set: false,
                handing: false,
                events: Some(events),
            }),
            wake: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, QuiesceState> {
        // The state stays consistent whatever panicked while holding it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set(&self) {
        let mut state = self.state();
        state.set = true;
        state.tell_if_done();
        drop(state);
        // Wakes the scheduler from its sleep until the next instant or retry.
        self.wake.notify_one();
    }

    pub fn is_set(&self) -> bool {
        self.state().set
    }

    /// Before a claim whose runs go to the host: `None` once quiesced (claim none of them).
    pub(super) fn handing(&self) -> Option<Handing<'_>> {
        let mut state = self.state();
        if state.set {
            return None;
        }
        state.handing = true;
        Some(Handing(self))
    }
}
