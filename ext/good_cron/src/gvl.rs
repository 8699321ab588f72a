//! Running blocking Rust work with the GVL released, so other Ruby threads keep running.

use good_cron_engine::mailbox::{Received, Receiver};
use good_cron_engine::wait::Interrupt;
use magnus::{Error, Ruby};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::Instant;

struct Call<F, R> {
    work: Option<F>,
    result: Option<std::thread::Result<R>>,
}

unsafe extern "C" fn trampoline<F: FnOnce() -> R, R>(data: *mut c_void) -> *mut c_void {
    // SAFETY: `data` is the `Call` that `call_without_gvl` passed and keeps alive for this call.
    let call = unsafe { &mut *data.cast::<Call<F, R>>() };
    if let Some(work) = call.work.take() {
        // A panic must not unwind into Ruby's C frames.
        call.result = Some(catch_unwind(AssertUnwindSafe(work)));
    }
    std::ptr::null_mut()
}

/// Ruby's unblock function: it has an interrupt (a signal, `Thread#raise`, `Thread#kill`) for
/// the thread, whose wait must return now.
unsafe extern "C" fn interrupt(data: *mut c_void) {
    // SAFETY: `data` is the `Interrupt` that `wait_without_gvl` keeps alive for the call; Ruby
    // calls this only while the call runs.
    let interrupt = unsafe { &*data.cast::<Interrupt>() };
    // A panic must not unwind into Ruby's C frames.
    let _ = catch_unwind(AssertUnwindSafe(|| interrupt.interrupt()));
}

/// Runs `work` without the GVL; `None` when Ruby did not run it, as an interrupt was pending
/// (only with `interrupt`: Ruby then leaves the interrupt to us instead of raising through
/// these frames).
fn call_without_gvl<F: FnOnce() -> R, R>(work: F, interrupt: Option<&Interrupt>) -> Option<R> {
    let mut call = Call {
        work: Some(work),
        result: None,
    };
    let data = (&mut call as *mut Call<F, R>).cast();
    // SAFETY: the trampoline only touches `call`, and the unblock function only `interrupt`,
    // which both outlive the call.
    unsafe {
        match interrupt {
            Some(interrupt) => rb_sys::rb_nogvl(
                Some(trampoline::<F, R>),
                data,
                Some(self::interrupt),
                (interrupt as *const Interrupt).cast_mut().cast(),
                rb_sys::RB_NOGVL_INTR_FAIL as i32,
            ),
            None => rb_sys::rb_thread_call_without_gvl(
                Some(trampoline::<F, R>),
                data,
                None,
                std::ptr::null_mut(),
            ),
        };
    }
    match (call.result, call.work) {
        (Some(Ok(value)), _) => Some(value),
        (Some(Err(panic)), _) => std::panic::resume_unwind(panic),
        (None, Some(work)) if interrupt.is_none() => Some(work()),
        (None, _) => None,
    }
}

/// Runs `work` without the GVL. `work` must not touch Ruby objects and must return on its
/// own within a bounded time, since nothing cancels it.
pub fn without_gvl<F: FnOnce() -> R, R>(work: F) -> R {
    match call_without_gvl(work, None) {
        Some(value) => value,
        None => unreachable!("without an unblock function the work always runs"),
    }
}

/// Locks `mutex` holding the GVL, but waits for it without the GVL while another thread
/// holds it (a stop waiting for its engine), so that other Ruby threads and trap handlers run
/// meanwhile. `None` if a panic poisoned it.
pub fn lock<T>(mutex: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    match mutex.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::WouldBlock) => without_gvl(|| mutex.lock().ok()),
        Err(TryLockError::Poisoned(_)) => None,
    }
}

/// What a wait does once Ruby's interrupts for its thread have been handled.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AfterInterrupt {
    /// Goes on waiting.
    Wait,
    /// Returns `Ok(None)`, as after a timeout (the caller need not wait for an answer).
    Return,
}

/// Waits without the GVL for `wait` to return a value. `wait` blocks until it has one, its
/// own deadline passes (`None`), or the `Interrupt` it is given is set (`None`): Ruby sets it
/// when it has an interrupt for this thread, which is then handled at once (trap handlers
/// run, and `Thread#raise`, `Thread#kill` or an `exit` in one raises here) before waiting
/// again or returning `Ok(None)`, as `after_interrupt` says.
pub fn wait_without_gvl<R>(
    ruby: &Ruby,
    after_interrupt: AfterInterrupt,
    mut wait: impl FnMut(&Interrupt) -> Option<R>,
) -> Result<Option<R>, Error> {
    loop {
        let interrupt = Interrupt::default();
        let interrupted = match call_without_gvl(|| wait(&interrupt), Some(&interrupt)) {
            Some(Some(value)) => return Ok(Some(value)),
            Some(None) => interrupt.is_set(),
            // Ruby had an interrupt pending, and did not wait.
            None => true,
        };
        if !interrupted {
            return Ok(None);
        }
        ruby.thread_check_ints()?;
        if after_interrupt == AfterInterrupt::Return {
            return Ok(None);
        }
    }
}

/// Stops the engine in `engine` with `stop`, waiting without the GVL until `deadline` (forever
/// if `None`), interrupts handled as they come; true once it has stopped (or its lock is
/// poisoned: nothing is left to stop).
pub fn stop_without_gvl<E>(
    ruby: &Ruby,
    engine: &Mutex<E>,
    deadline: Option<Instant>,
    stop: impl Fn(&mut E, Option<Instant>, &Interrupt) -> bool,
) -> Result<bool, Error> {
    let stopped = wait_without_gvl(ruby, AfterInterrupt::Wait, |interrupt| {
        // Without the GVL: a plain lock.
        engine
            .lock()
            .map(|mut e| stop(&mut e, deadline, interrupt))
            .unwrap_or(true)
            .then_some(())
    })?;
    Ok(stopped.is_some())
}

/// The next item of `mail`, waiting without the GVL for as long as it takes (interrupts are
/// handled as they come); `None` once every sender is gone and every item was taken.
pub fn receive<T>(ruby: &Ruby, mail: &Receiver<T>) -> Result<Option<T>, Error> {
    loop {
        let received = wait_without_gvl(ruby, AfterInterrupt::Wait, |interrupt| {
            match mail.recv(None, interrupt) {
                Received::Empty => None,
                received => Some(received),
            }
        })?;
        match received {
            Some(Received::Item(item)) => return Ok(Some(item)),
            Some(Received::Closed) => return Ok(None),
            Some(Received::Empty) | None => {}
        }
    }
}
