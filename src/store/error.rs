//! What a failed statement or connection means: worth retrying (the database is away or busy),
//! or a problem no retry fixes (a bad URL, bad credentials, a missing database or table, TLS
//! the server or its certificate cannot give).

use super::{Store, StoreError};
use crate::thread::StartError;
use sqlx::postgres::PgConnection;
use sqlx::Connection;
use std::time::Duration;

/// SQLSTATEs of the errors a retry cannot fix: bad credentials (28000, 28P01) and a database
/// that does not exist (3D000).
const CREDENTIALS: [&str; 2] = ["28000", "28P01"];
const NO_DATABASE: &str = "3D000";

/// What a failed statement or connection means: the one classification that start errors,
/// the poller's log line and the binding's Ruby error classes are decided from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// database_url is not valid.
    BadUrl,
    /// GoodJob's tables (or good_cron's) are missing.
    Schema,
    /// The database does not exist (SQLSTATE 3D000).
    NoDatabase,
    /// The database refused the credentials (28000, 28P01).
    Credentials,
    /// TLS the server or its certificate cannot give.
    Tls,
    /// The database could not be reached, is starting or shutting down, or is full: worth
    /// retrying.
    Unreachable,
    /// Another failure (a statement the database refused): worth retrying.
    Other,
}

impl StoreError {
    /// What this failure means.
    pub fn failure(&self) -> Failure {
        let database = match self {
            StoreError::Schema(_) => return Failure::Schema,
            StoreError::Unreachable(_) => return Failure::Unreachable,
            StoreError::Database(sqlx::Error::Configuration(_)) => return Failure::BadUrl,
            StoreError::Database(sqlx::Error::Tls(_)) => return Failure::Tls,
            StoreError::Database(sqlx::Error::Io(e)) if refused_certificate(e).is_some() => {
                return Failure::Tls
            }
            StoreError::Database(sqlx::Error::Database(e)) => e,
            StoreError::Database(
                sqlx::Error::Io(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed,
            ) => return Failure::Unreachable,
            StoreError::Database(_) => return Failure::Other,
        };
        let code = database.code();
        let code = code.as_deref().unwrap_or_default();
        // Class 08: connection exceptions; 57P0x: the server is shutting down or starting;
        // 53300: too many connections.
        if CREDENTIALS.contains(&code) {
            Failure::Credentials
        } else if code == NO_DATABASE {
            Failure::NoDatabase
        } else if code.starts_with("08") || code.starts_with("57P0") || code == "53300" {
            Failure::Unreachable
        } else {
            Failure::Other
        }
    }

    /// The error a start reports for this failure; `None` when it is worth retrying (the
    /// engine logs it and keeps trying).
    pub fn start_error(&self) -> Option<StartError> {
        let detail = match self {
            StoreError::Database(sqlx::Error::Database(e)) => e.message().to_owned(),
            StoreError::Database(sqlx::Error::Configuration(e)) => e.to_string(),
            StoreError::Database(sqlx::Error::Io(e)) => match refused_certificate(e) {
                Some(why) => format!("{why} ({e})"),
                None => e.to_string(),
            },
            StoreError::Database(sqlx::Error::Tls(e)) => e.to_string(),
            other => other.to_string(),
        };
        match self.failure() {
            Failure::BadUrl => Some(StartError::Config(format!(
                "database_url is not valid: {detail}"
            ))),
            Failure::Schema => Some(StartError::Schema(detail)),
            Failure::Tls => Some(StartError::Tls(format!("no TLS to the database: {detail}"))),
            Failure::Credentials => Some(StartError::Credentials(format!(
                "the database refused the credentials: {detail}"
            ))),
            Failure::NoDatabase => Some(StartError::NoDatabase(format!(
                "the database does not exist: {detail}"
            ))),
            Failure::Unreachable | Failure::Other => None,
        }
    }

    /// Whether the database could not be reached (rather than refusing a statement).
    pub fn is_unreachable(&self) -> bool {
        matches!(self.failure(), Failure::Unreachable | Failure::Tls)
    }
}

/// Why the handshake failed on the certificates (rustls says it through an I/O error), or
/// `None` for another I/O error. As refused credentials, a retry does not fix it.
fn refused_certificate(e: &std::io::Error) -> Option<String> {
    use rustls::{CertificateError, Error};
    let why = match e.get_ref()?.downcast_ref::<Error>()? {
        Error::InvalidCertificate(CertificateError::NotValidForName) => {
            "the server's certificate is not for the host name in database_url \
             (sslmode=verify-full checks it, verify-ca does not)"
        }
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the server's certificate is signed by no authority sslrootcert trusts"
        }
        Error::InvalidCertificate(_) => "the server's certificate was refused",
        _ => "the TLS handshake failed",
    };
    Some(why.to_owned())
}

impl Store {
    /// Opens and closes one connection within `timeout`, for the error a pool would hide (it
    /// only says that it timed out).
    pub async fn probe(&self, timeout: Duration) -> Result<(), StoreError> {
        let options = self.pool.connect_options();
        let connect = PgConnection::connect_with(&options);
        match tokio::time::timeout(timeout, connect).await {
            Ok(connection) => Ok(connection?.close().await?),
            Err(_) => Err(StoreError::Unreachable(format!(
                "no connection within {timeout:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_s_kind_decides_its_start_error() {
        let timed_out = StoreError::Database(sqlx::Error::PoolTimedOut);
        assert_eq!(timed_out.failure(), Failure::Unreachable);
        assert_eq!(timed_out.start_error(), None, "retried");
        assert!(timed_out.is_unreachable());

        let bad_url = StoreError::Database(sqlx::Error::Configuration("no port".into()));
        assert_eq!(bad_url.failure(), Failure::BadUrl);
        assert_eq!(
            bad_url.start_error(),
            Some(StartError::Config(
                "database_url is not valid: no port".into()
            ))
        );

        let schema = StoreError::Schema("good_jobs is missing".into());
        assert_eq!(schema.failure(), Failure::Schema);
        assert_eq!(
            schema.start_error(),
            Some(StartError::Schema("good_jobs is missing".into()))
        );
        assert!(!schema.is_unreachable());

        let other = StoreError::Database(sqlx::Error::RowNotFound);
        assert_eq!(other.failure(), Failure::Other);
        assert_eq!(other.start_error(), None);
    }
}
