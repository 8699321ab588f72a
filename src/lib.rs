//! The engine of good_cron. Pure Rust: it knows nothing of Ruby.

pub mod backoff;
pub mod clock;
pub mod config;
pub mod log;
pub mod mailbox;
pub mod poller;
pub mod schedule;
pub mod scheduler;
pub mod store;
pub mod thread;
pub mod wait;
