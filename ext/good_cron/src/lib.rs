//! Ruby binding of the good_cron engine: Ruby classes over plain Rust values, the GVL
//! released around blocking work, and events handed to a Ruby thread. No SQL here.

mod convert;
mod enqueuer;
mod errors;
mod events;
mod fork;
mod gvl;
mod log;
mod poller;
mod schedule;
mod scheduler;

use magnus::{Error, Ruby};

#[magnus::init]
fn init(ruby: &Ruby) -> Result<(), Error> {
    errors::check_declared(ruby)?;
    let module = ruby.get_inner(&errors::GOOD_CRON);
    events::look_up(module)?;
    schedule::define(ruby, module)?;
    scheduler::define(ruby, module)?;
    poller::define(ruby, module)?;
    enqueuer::define(ruby, module)?;
    Ok(())
}
