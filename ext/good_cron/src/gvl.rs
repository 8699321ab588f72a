//! Running blocking Rust work with the GVL released, so other Ruby threads keep running.

use magnus::{Error, Ruby};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The longest a wait goes without looking whether Ruby has an interrupt for its thread.
const SLICE: Duration = Duration::from_millis(100);

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

/// Ruby's unblock function: it has an interrupt (a signal, `Thread#raise`) for the thread.
unsafe extern "C" fn interrupt(flag: *mut c_void) {
    // SAFETY: `flag` is the `AtomicBool` that `wait_without_gvl` keeps alive for the call.
    unsafe { &*flag.cast::<AtomicBool>() }.store(true, Ordering::SeqCst);
}

fn call_without_gvl<F: FnOnce() -> R, R>(work: F, interrupted: Option<&AtomicBool>) -> R {
    let mut call = Call {
        work: Some(work),
        result: None,
    };
    let (unblock, flag) = match interrupted {
        Some(flag) => (
            Some(interrupt as unsafe extern "C" fn(*mut c_void)),
            (flag as *const AtomicBool).cast_mut().cast(),
        ),
        None => (None, std::ptr::null_mut()),
    };
    // SAFETY: the trampoline only touches `call`, and the unblock function only `flag`, which
    // both outlive the call.
    unsafe {
        rb_sys::rb_thread_call_without_gvl(
            Some(trampoline::<F, R>),
            (&mut call as *mut Call<F, R>).cast(),
            unblock,
            flag,
        );
    }
    match (call.result, call.work) {
        (Some(Ok(value)), _) => value,
        (Some(Err(panic)), _) => std::panic::resume_unwind(panic),
        // Ruby skipped the call (an interrupt was pending): do the work holding the GVL.
        (None, Some(work)) => work(),
        (None, None) => unreachable!("the work either ran or is still here"),
    }
}

/// Runs `work` without the GVL. `work` must not touch Ruby objects and must return on its
/// own within a bounded time (callers pass timeouts), since no unblock function cancels it.
pub fn without_gvl<F: FnOnce() -> R, R>(work: F) -> R {
    call_without_gvl(work, None)
}

/// What a wait does once Ruby's interrupts for its thread have been handled.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AfterInterrupt {
    /// Goes on waiting.
    Wait,
    /// Returns `Ok(None)`, as after a timeout (the caller need not wait for an answer).
    Return,
}

/// Waits without the GVL for `poll` (given how long it may block) to return a value, up to
/// `timeout` (forever if `None`). Ruby's interrupts for this thread are handled as they come
/// (within `SLICE`): trap handlers run, and `Thread#raise` or an `exit` in one raises here.
/// `Ok(None)`: the timeout passed (or an interrupt came, with `AfterInterrupt::Return`).
pub fn wait_without_gvl<R>(
    ruby: &Ruby,
    timeout: Option<Duration>,
    after_interrupt: AfterInterrupt,
    mut poll: impl FnMut(Duration) -> Option<R>,
) -> Result<Option<R>, Error> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
    loop {
        let interrupted = AtomicBool::new(false);
        let waited = call_without_gvl(
            || loop {
                let slice = left().map_or(SLICE, |left| left.min(SLICE));
                if let Some(value) = poll(slice) {
                    return Some(value);
                }
                if interrupted.load(Ordering::SeqCst) || left().is_some_and(|l| l.is_zero()) {
                    return None;
                }
            },
            Some(&interrupted),
        );
        if waited.is_some() || left().is_some_and(|l| l.is_zero()) {
            return Ok(waited);
        }
        ruby.thread_check_ints()?;
        if after_interrupt == AfterInterrupt::Return {
            return Ok(None);
        }
    }
}
