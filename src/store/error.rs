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

impl StoreError {
    /// The error a start reports for this failure; `None` when it is worth retrying (the
    /// engine logs it and keeps trying).
    pub fn start_error(&self) -> Option<StartError> {
        let database = match self {
            StoreError::Schema(message) => return Some(StartError::Schema(message.clone())),
            StoreError::Unreachable(_) => return None,
            StoreError::Database(sqlx::Error::Configuration(e)) => {
                return Some(StartError::Config(format!(
                    "database_url is not valid: {e}"
                )))
            }
            StoreError::Database(sqlx::Error::Tls(e)) => {
                return Some(StartError::Database(format!("no TLS to the database: {e}")))
            }
            StoreError::Database(sqlx::Error::Io(e)) => {
                return refused_certificate(e).map(|why| {
                    StartError::Database(format!("no TLS to the database: {why} ({e})"))
                })
            }
            StoreError::Database(sqlx::Error::Database(e)) => e,
            StoreError::Database(_) => return None,
        };
        let code = database.code();
        let code = code.as_deref().unwrap_or_default();
        if CREDENTIALS.contains(&code) {
            Some(StartError::Database(format!(
                "the database refused the credentials: {}",
                database.message()
            )))
        } else if code == NO_DATABASE {
            Some(StartError::Database(format!(
                "the database does not exist: {}",
                database.message()
            )))
        } else {
            None
        }
    }

    /// Whether the database could not be reached (rather than refusing a statement).
    pub fn is_unreachable(&self) -> bool {
        match self {
            StoreError::Unreachable(_) => true,
            StoreError::Database(sqlx::Error::Database(e)) => {
                // Class 08: connection exceptions; 57P0x: the server is shutting down or
                // starting; 53300: too many connections.
                let code = e.code();
                let code = code.as_deref().unwrap_or_default();
                code.starts_with("08") || code.starts_with("57P0") || code == "53300"
            }
            StoreError::Database(
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed,
            ) => true,
            _ => false,
        }
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
