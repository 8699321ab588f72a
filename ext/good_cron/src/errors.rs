//! The gem's exception classes that Rust raises.

use magnus::{prelude::*, value::Lazy, Error, ExceptionClass, RModule, Ruby};

pub static GOOD_CRON: Lazy<RModule> = Lazy::new(|ruby| ruby.define_module("GoodCron").unwrap());

/// `GoodCron::Error < StandardError`: the base of the gem's own errors.
pub static ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| {
    ruby.get_inner(&GOOD_CRON)
        .define_error("Error", ruby.exception_standard_error())
        .unwrap()
});

/// A `GoodCron::Error` with `message`.
pub fn error(ruby: &Ruby, message: String) -> Error {
    Error::new(ruby.get_inner(&ERROR), message)
}

/// `GoodCron::InvalidSchedule < ArgumentError`: a schedule that does not parse.
pub static INVALID_SCHEDULE: Lazy<ExceptionClass> = Lazy::new(|ruby| {
    ruby.get_inner(&GOOD_CRON)
        .define_error("InvalidSchedule", ruby.exception_arg_error())
        .unwrap()
});

/// `GoodCron::SchemaError < GoodCron::Error`: GoodJob's tables or unique index are missing.
pub static SCHEMA_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| {
    ruby.get_inner(&GOOD_CRON)
        .define_error("SchemaError", ruby.get_inner(&ERROR))
        .unwrap()
});
