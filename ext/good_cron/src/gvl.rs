//! Running blocking Rust work with the GVL released, so other Ruby threads keep running.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

struct Call<F, R> {
    work: Option<F>,
    result: Option<std::thread::Result<R>>,
}

unsafe extern "C" fn trampoline<F: FnOnce() -> R, R>(data: *mut c_void) -> *mut c_void {
    // SAFETY: `data` is the `Call` that `without_gvl` passed and keeps alive for this call.
    let call = unsafe { &mut *data.cast::<Call<F, R>>() };
    if let Some(work) = call.work.take() {
        // A panic must not unwind into Ruby's C frames.
        call.result = Some(catch_unwind(AssertUnwindSafe(work)));
    }
    std::ptr::null_mut()
}

/// Runs `work` without the GVL. `work` must not touch Ruby objects and must return on its
/// own within a bounded time (callers pass timeouts), since no unblock function cancels it.
pub fn without_gvl<F: FnOnce() -> R, R>(work: F) -> R {
    let mut call = Call {
        work: Some(work),
        result: None,
    };
    // SAFETY: the trampoline only touches `call`, which outlives the call.
    unsafe {
        rb_sys::rb_thread_call_without_gvl(
            Some(trampoline::<F, R>),
            (&mut call as *mut Call<F, R>).cast(),
            None,
            std::ptr::null_mut(),
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
