//! Fork safety for what a native object holds: a forked child (a Puma worker) inherits the
//! object but not the engine's threads, and its locks, wakers and sockets may be left
//! mid-use. The child never drops the parent's; it starts its own.

use std::mem::ManuallyDrop;
use std::ops::Deref;

/// A value owned by the process that made it: dropped there, forgotten in a forked child.
pub struct ForkGuard<T> {
    pid: u32,
    value: ManuallyDrop<T>,
}

impl<T> ForkGuard<T> {
    pub fn new(value: T) -> ForkGuard<T> {
        ForkGuard {
            pid: std::process::id(),
            value: ManuallyDrop::new(value),
        }
    }

    /// Made by the parent of a fork: this process must not use it.
    pub fn is_inherited(&self) -> bool {
        self.pid != std::process::id()
    }
}

impl<T> Deref for ForkGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> Drop for ForkGuard<T> {
    fn drop(&mut self) {
        if !self.is_inherited() {
            // SAFETY: dropped once, here, and never used again.
            unsafe { ManuallyDrop::drop(&mut self.value) }
        }
    }
}
