//! The engines' log lines as Ruby receives them from both engines: `GoodCron::Events::Log`,
//! its `level` being the Logger method to call (`:info`, `:warn`, `:error`).

use crate::events::build;
use good_cron_engine::log::{Level, Log};
use magnus::{Error, Ruby, Value};

pub fn log_event(ruby: &Ruby, log: Log) -> Result<Value, Error> {
    let level = match log.level {
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    };
    build(ruby, |c| c.log, (ruby.to_symbol(level), log.message))
}
