//! The engines' log lines as Ruby receives them from both engines: `[:log, level, message]`,
//! `level` being the Logger method to call (`:info`, `:warn`, `:error`).

use good_cron_engine::log::{Level, Log};
use magnus::{IntoValue, Ruby, Value};

pub fn log_event(ruby: &Ruby, log: Log) -> Value {
    let level = match log.level {
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    };
    (ruby.to_symbol("log"), ruby.to_symbol(level), log.message).into_value_with(ruby)
}
