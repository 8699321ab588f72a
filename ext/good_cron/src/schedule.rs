//! `GoodCron::Schedule`: a parsed schedule. Times cross the boundary as whole Unix seconds;
//! lib/good_cron/schedule.rb turns them into `Time`s.

use crate::errors::{raised, INVALID_SCHEDULE};
use good_cron_engine::schedule::Schedule as EngineSchedule;
use magnus::{function, method, prelude::*, Error, RClass, RString, Ruby};

#[magnus::wrap(class = "GoodCron::Schedule", free_immediately, size)]
struct Schedule(EngineSchedule);

impl Schedule {
    fn parse(ruby: &Ruby, text: RString) -> Result<Schedule, Error> {
        let invalid = |message: String| raised(ruby, INVALID_SCHEDULE, message);
        let text = text.to_string().map_err(|_| {
            invalid(format!(
                "invalid schedule {}: it is not valid UTF-8",
                text.inspect()
            ))
        })?;
        EngineSchedule::parse(&text)
            .map(Schedule)
            .map_err(|e| invalid(e.to_string()))
    }

    fn next_after(&self, t: i64) -> Option<i64> {
        self.0.next_after(t)
    }

    fn previous_before(&self, t: i64) -> Option<i64> {
        self.0.previous_before(t)
    }

    fn upcoming_after(&self, t: i64, count: usize) -> Vec<i64> {
        self.0.upcoming(t, count)
    }

    fn instants_within(&self, first: i64, last: i64) -> Vec<i64> {
        self.0.within(first, last).collect()
    }

    fn utc_offset_at(&self, t: i64) -> i64 {
        self.0.utc_offset_at(t)
    }

    fn to_cron(&self) -> String {
        self.0.to_cron().to_owned()
    }

    fn time_zone(&self) -> String {
        self.0.time_zone().to_owned()
    }

    fn source(&self) -> String {
        self.0.source().to_owned()
    }
}

pub fn define(ruby: &Ruby, module: magnus::RModule) -> Result<(), Error> {
    let class: RClass = module.define_class("Schedule", ruby.class_object())?;
    class.define_singleton_method("parse", function!(Schedule::parse, 1))?;
    class.define_method("next_after", method!(Schedule::next_after, 1))?;
    class.define_method("previous_before", method!(Schedule::previous_before, 1))?;
    class.define_method("upcoming_after", method!(Schedule::upcoming_after, 2))?;
    class.define_method("instants_within", method!(Schedule::instants_within, 2))?;
    class.define_method("utc_offset_at", method!(Schedule::utc_offset_at, 1))?;
    class.define_method("to_cron", method!(Schedule::to_cron, 0))?;
    class.define_method("time_zone", method!(Schedule::time_zone, 0))?;
    class.define_method("source", method!(Schedule::source, 0))?;
    Ok(())
}
