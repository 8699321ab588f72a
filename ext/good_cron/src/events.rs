//! The engines' events as Ruby receives them: instances of the Structs of
//! lib/good_cron/events.rb (`GoodCron::Events::*`), looked up once when the extension loads.

use crate::log::log_event;
use good_cron_engine::scheduler::{Event, Run};
use good_cron_engine::store::Outcome;
use magnus::{gc, prelude::*, value::Opaque, ArgList, Error, RClass, RModule, Ruby, Symbol, Value};
use std::sync::OnceLock;

/// The `GoodCron::Events` classes, one per kind of event.
pub struct Classes {
    pub log: Opaque<RClass>,
    claimed: Opaque<RClass>,
    failed: Opaque<RClass>,
    enqueue: Opaque<RClass>,
    skipped: Opaque<RClass>,
    next: Opaque<RClass>,
    quiesced: Opaque<RClass>,
}

static CLASSES: OnceLock<Classes> = OnceLock::new();

/// Looks up the event classes (lib/good_cron/native.rb loads them before the extension).
pub fn look_up(module: RModule) -> Result<(), Error> {
    let events: RModule = module.const_get("Events")?;
    let class = |name: &str| -> Result<Opaque<RClass>, Error> {
        let class: RClass = events.const_get(name)?;
        // Kept where the extension finds it: never collected nor moved.
        gc::register_mark_object(class);
        Ok(class.into())
    };
    let classes = Classes {
        log: class("Log")?,
        claimed: class("Claimed")?,
        failed: class("Failed")?,
        enqueue: class("Enqueue")?,
        skipped: class("Skipped")?,
        next: class("Next")?,
        quiesced: class("Quiesced")?,
    };
    let _ = CLASSES.set(classes);
    Ok(())
}

/// A new instance of the class `pick` chooses.
pub fn build<A: ArgList>(
    ruby: &Ruby,
    pick: fn(&Classes) -> Opaque<RClass>,
    args: A,
) -> Result<Value, Error> {
    let classes = CLASSES.get().ok_or_else(|| {
        Error::new(
            ruby.exception_runtime_error(),
            "GoodCron::Events was not loaded",
        )
    })?;
    ruby.get_inner(pick(classes)).new_instance(args)
}

fn outcome(ruby: &Ruby, outcome: Outcome) -> Symbol {
    ruby.to_symbol(match outcome {
        Outcome::Claimed => "claimed",
        Outcome::Duplicate => "duplicate",
        Outcome::Disabled => "disabled",
        Outcome::Stale => "stale",
    })
}

/// A run's event (`Claimed`, `Failed`, …): the run's fields, then the event's own.
macro_rules! run_event {
    ($ruby:expr, $class:ident, $run:expr $(, $detail:expr)*) => {{
        let run: Run = $run;
        build(
            $ruby,
            |c| c.$class,
            (run.key, run.cron_at, run.lateness, run.caught_up $(, $detail)*),
        )
    }};
}

/// The scheduler's event as its `Events` Struct.
pub fn scheduler_event(ruby: &Ruby, event: Event) -> Result<Value, Error> {
    match event {
        Event::Log(log) => log_event(ruby, log),
        Event::Claimed {
            run,
            outcome: o,
            job_id,
        } => run_event!(
            ruby,
            claimed,
            run,
            outcome(ruby, o),
            job_id.map(|id| id.to_string())
        ),
        Event::Failed { run, error } => run_event!(ruby, failed, run, error),
        Event::Enqueue { run, listed } => {
            run_event!(ruby, enqueue, run, listed.enabled, listed.disabled)
        }
        Event::Skipped { run, outcome: o } => run_event!(ruby, skipped, run, outcome(ruby, o)),
        Event::Next { key, after } => build(ruby, |c| c.next, (key, after)),
        Event::Quiesced => build(ruby, |c| c.quiesced, ()),
    }
}
