//! The gem's exception classes, declared in lib/good_cron/errors.rb (loaded before this
//! extension) and looked up here by name; which one a failure raises is decided from its kind
//! (`StartError`, `Failure`), never from its message.

use good_cron_engine::store::{database_name, Failure, StoreError};
use good_cron_engine::thread::StartError;
use magnus::{
    kwargs, prelude::*, value::Lazy, Error, Exception, ExceptionClass, RClass, RModule, Ruby,
};

#[allow(
    clippy::unwrap_used,
    reason = "defining the gem's module at load cannot fail"
)]
pub static GOOD_CRON: Lazy<RModule> = Lazy::new(|ruby| ruby.define_module("GoodCron").unwrap());

pub const ERROR: &str = "Error";
pub const INVALID_SCHEDULE: &str = "InvalidSchedule";
const SCHEMA_ERROR: &str = "SchemaError";
const DATABASE_ERROR: &str = "DatabaseError";
const MISSING_DATABASE: &str = "MissingDatabase";
const REFUSED_CREDENTIALS: &str = "RefusedCredentials";
const UNREACHABLE_DATABASE: &str = "UnreachableDatabase";
const CONFIGURATION_ERROR: &str = "ConfigurationError";

/// Fails the load with a NameError unless lib/good_cron/errors.rb declared every class.
pub fn check_declared(ruby: &Ruby) -> Result<(), Error> {
    for name in [
        ERROR,
        INVALID_SCHEDULE,
        SCHEMA_ERROR,
        DATABASE_ERROR,
        MISSING_DATABASE,
        REFUSED_CREDENTIALS,
        UNREACHABLE_DATABASE,
        CONFIGURATION_ERROR,
    ] {
        ruby.get_inner(&GOOD_CRON)
            .const_get::<_, ExceptionClass>(name)?;
    }
    Ok(())
}

/// A `GoodCron::<class>` with `message`.
pub fn raised(ruby: &Ruby, class: &str, message: String) -> Error {
    match ruby
        .get_inner(&GOOD_CRON)
        .const_get::<_, ExceptionClass>(class)
    {
        Ok(class) => Error::new(class, message),
        Err(missing) => missing,
    }
}

/// A `GoodCron::Error` with `message`.
pub fn error(ruby: &Ruby, message: String) -> Error {
    raised(ruby, ERROR, message)
}

/// `GoodCron::ConfigurationError` for one problem.
fn configuration_error(ruby: &Ruby, message: String) -> Error {
    let built = ruby
        .get_inner(&GOOD_CRON)
        .const_get::<_, RClass>(CONFIGURATION_ERROR)
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
        StartError::Schema(message) => raised(ruby, SCHEMA_ERROR, message),
        StartError::NoDatabase(message) => raised(ruby, MISSING_DATABASE, message),
        StartError::Credentials(message) => raised(ruby, REFUSED_CREDENTIALS, message),
        StartError::Tls(message) => raised(ruby, DATABASE_ERROR, message),
        StartError::System(message) => self::error(ruby, message),
    }
}

/// The Ruby error for a failed call on `database_url` (outside an engine, which retries).
pub fn store_error(ruby: &Ruby, database_url: &str, error: &StoreError) -> Error {
    let class = match error.failure() {
        Failure::Schema => SCHEMA_ERROR,
        Failure::NoDatabase => {
            if let Some(name) = database_name(database_url) {
                let message = format!("the database \"{name}\" does not exist");
                return raised(ruby, MISSING_DATABASE, message);
            }
            MISSING_DATABASE
        }
        Failure::Credentials => REFUSED_CREDENTIALS,
        Failure::Unreachable => UNREACHABLE_DATABASE,
        Failure::Tls => DATABASE_ERROR,
        Failure::BadUrl | Failure::Other => ERROR,
    };
    raised(ruby, class, error.to_string())
}
