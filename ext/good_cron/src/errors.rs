//! The gem's exception classes that Rust raises.

use good_cron_engine::thread::StartError;
use magnus::{
    kwargs, prelude::*, value::Lazy, Error, Exception, ExceptionClass, RClass, RModule, Ruby,
};

#[allow(
    clippy::unwrap_used,
    reason = "defining the gem's module and classes at load cannot fail"
)]
pub static GOOD_CRON: Lazy<RModule> = Lazy::new(|ruby| ruby.define_module("GoodCron").unwrap());

/// Defines `GoodCron::<name> < superclass`.
#[allow(
    clippy::unwrap_used,
    reason = "defining the gem's classes at load cannot fail"
)]
fn define_error(ruby: &Ruby, name: &str, superclass: ExceptionClass) -> ExceptionClass {
    ruby.get_inner(&GOOD_CRON)
        .define_error(name, superclass)
        .unwrap()
}

/// `GoodCron::Error < StandardError`: the base of the gem's own errors.
pub static ERROR: Lazy<ExceptionClass> =
    Lazy::new(|ruby| define_error(ruby, "Error", ruby.exception_standard_error()));

/// A `GoodCron::Error` with `message`.
pub fn error(ruby: &Ruby, message: String) -> Error {
    Error::new(ruby.get_inner(&ERROR), message)
}

/// `GoodCron::InvalidSchedule < ArgumentError`: a schedule that does not parse.
pub static INVALID_SCHEDULE: Lazy<ExceptionClass> =
    Lazy::new(|ruby| define_error(ruby, "InvalidSchedule", ruby.exception_arg_error()));

/// `GoodCron::SchemaError < GoodCron::Error`: GoodJob's tables or unique index are missing.
pub static SCHEMA_ERROR: Lazy<ExceptionClass> =
    Lazy::new(|ruby| define_error(ruby, "SchemaError", ruby.get_inner(&ERROR)));

/// `GoodCron::DatabaseError < GoodCron::Error`: the database refused the credentials, or does
/// not exist (an unreachable database is not an error: the engines retry).
pub static DATABASE_ERROR: Lazy<ExceptionClass> =
    Lazy::new(|ruby| define_error(ruby, "DatabaseError", ruby.get_inner(&ERROR)));

/// `GoodCron::ConfigurationError` (declared in lib/good_cron/errors.rb) for one problem.
fn configuration_error(ruby: &Ruby, message: String) -> Error {
    let built = ruby
        .get_inner(&GOOD_CRON)
        .const_get::<_, RClass>("ConfigurationError")
        .and_then(|class| {
            class.new_instance((vec![message.clone()], kwargs!("subject" => "the settings")))
        })
        .and_then(Exception::try_convert);
    match built {
        Ok(exception) => exception.into(),
        Err(_) => error(ruby, message),
    }
}

/// The Ruby error for an engine that did not start.
pub fn start_error(ruby: &Ruby, error: StartError) -> Error {
    match error {
        StartError::Config(message) => configuration_error(ruby, message),
        StartError::Schema(message) => Error::new(ruby.get_inner(&SCHEMA_ERROR), message),
        StartError::Database(message) => Error::new(ruby.get_inner(&DATABASE_ERROR), message),
        StartError::System(message) => self::error(ruby, message),
    }
}
