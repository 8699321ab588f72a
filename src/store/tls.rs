//! libpq's meaning of `sslmode`, `sslrootcert`, `sslcert` and `sslkey`, where sqlx's differs:
//! sqlx's `require` never verifies, its `allow` never tries TLS, it asks for TLS on a Unix
//! socket, reads no default files in `~/.postgresql/`, and knows no `sslrootcert=system`.
//! What cannot be changed from here: sqlx trusts the system's authorities on top of
//! `sslrootcert`'s (README, "Where it differs from libpq").

use super::StoreError;
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use std::path::PathBuf;
use url::Url;

const MODES: [(&str, PgSslMode); 6] = [
    ("disable", PgSslMode::Disable),
    // sqlx cannot fall back from plain text to TLS, so `allow` tries TLS first, as `prefer`
    // does: it connects where libpq's `allow` would (but to a TLS server that takes
    // `hostnossl` connections only), encrypted when the server can.
    ("allow", PgSslMode::Prefer),
    ("prefer", PgSslMode::Prefer),
    ("require", PgSslMode::Require),
    ("verify-ca", PgSslMode::VerifyCa),
    ("verify-full", PgSslMode::VerifyFull),
];

const PARAMETERS: [&str; 4] = ["sslmode", "sslrootcert", "sslcert", "sslkey"];

/// sqlx's own spellings, which libpq rejects: refused rather than read differently.
const SQLX_ALIASES: [(&str, &str); 5] = [
    ("ssl-mode", "sslmode"),
    ("ssl-root-cert", "sslrootcert"),
    ("ssl-ca", "sslrootcert"),
    ("ssl-cert", "sslcert"),
    ("ssl-key", "sslkey"),
];

/// The TLS settings libpq would use for a URL: its query first, then PGSSLMODE,
/// PGSSLROOTCERT, PGSSLCERT and PGSSLKEY, then the files in `~/.postgresql/`.
pub(super) struct Tls {
    mode: PgSslMode,
    /// As written (or libpq's default), for messages.
    mode_name: String,
    /// `sslrootcert=system`: the system's trusted authorities only (sqlx adds them anyway).
    system: bool,
    root_cert: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

impl Tls {
    /// Reads and checks the settings, before sqlx parses the URL (its message for a bad
    /// `sslmode` lists no valid values).
    pub(super) fn read(url: &Url) -> Result<Tls, StoreError> {
        let settings = Settings { url };
        if let Some((alias, name)) = SQLX_ALIASES
            .iter()
            .find(|(alias, _)| settings.query(alias).is_some())
        {
            return Err(invalid(format!("unknown parameter {alias:?}: use {name}")));
        }
        let root_cert = settings.read("sslrootcert", "PGSSLROOTCERT");
        let system = root_cert.as_ref().is_some_and(|(path, _)| path == "system");
        let default = if system { "verify-full" } else { "prefer" };
        let (mode_name, from) = settings
            .read("sslmode", "PGSSLMODE")
            .unwrap_or_else(|| (default.to_owned(), "sslmode".to_owned()));
        let mode = MODES
            .iter()
            .find(|(name, _)| *name == mode_name)
            .map(|(_, mode)| *mode)
            .ok_or_else(|| {
                let valid: Vec<&str> = MODES.iter().map(|(name, _)| *name).collect();
                invalid(format!(
                    "unknown {from} {mode_name:?}: use one of {}",
                    valid.join(", ")
                ))
            })?;
        if system && !matches!(mode, PgSslMode::VerifyFull) {
            return Err(invalid(format!(
                "sslrootcert=system needs sslmode=verify-full, not {mode_name} (anyone can \
                 get a certificate from a public authority for a name of their own)"
            )));
        }
        let path = |(path, _): (String, String)| PathBuf::from(path);
        Ok(Tls {
            mode,
            mode_name,
            system,
            root_cert: match system {
                true => None,
                false => root_cert.map(path).or_else(|| default_file("root.crt")),
            },
            cert: settings
                .read("sslcert", "PGSSLCERT")
                .map(path)
                .or_else(|| default_file("postgresql.crt")),
            key: settings
                .read("sslkey", "PGSSLKEY")
                .map(path)
                .or_else(|| default_file("postgresql.key")),
        })
    }

    /// `options` (parsed by sqlx from the same URL) with these settings. Files are looked for
    /// as libpq does: a missing root certificate or client certificate is no error, except
    /// where `sslmode` needs the root one.
    pub(super) fn apply(self, options: PgConnectOptions) -> Result<PgConnectOptions, StoreError> {
        if options.get_socket().is_some() {
            // libpq never asks for TLS on a Unix socket; the server would refuse it.
            return Ok(options.ssl_mode(PgSslMode::Disable));
        }
        let mut options = options;
        let mut mode = self.mode;
        let verifies = matches!(mode, PgSslMode::VerifyCa | PgSslMode::VerifyFull);
        match self.root_cert.as_ref().filter(|path| path.is_file()) {
            Some(path) => {
                // libpq's `require` verifies the chain when a root certificate is there.
                if matches!(mode, PgSslMode::Require) {
                    mode = PgSslMode::VerifyCa;
                }
                options = options.ssl_root_cert(path);
            }
            None if verifies && !self.system => {
                let missing = self
                    .root_cert
                    .map_or("~/.postgresql/root.crt".into(), |path| {
                        path.display().to_string()
                    });
                return Err(invalid(format!(
                    "sslmode={} needs the server's root certificate, and {missing} does not \
                     exist: set sslrootcert to the file of the authority that signed the \
                     server's certificate, or sslrootcert=system for the system's trusted ones",
                    self.mode_name
                )));
            }
            // No authority beyond the system's (sqlx would read PGSSLROOTCERT's, even missing).
            None => options = options.ssl_root_cert_from_pem(Vec::new()),
        }
        if let Some(cert) = self.cert.filter(|path| path.is_file()) {
            match self.key.filter(|path| path.is_file()) {
                Some(key) => options = options.ssl_client_cert(cert).ssl_client_key(key),
                None => {
                    return Err(invalid(format!(
                        "the client certificate {} has no key file: set sslkey",
                        cert.display()
                    )))
                }
            }
        }
        Ok(options.ssl_mode(mode))
    }
}

/// `url` without the TLS settings, for sqlx to read the rest: [`Tls::apply`] sets them (sqlx
/// would fail on a file libpq does without, or on `sslrootcert=system`).
pub(super) fn without_settings(url: &Url) -> Url {
    let rest: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| !PARAMETERS.contains(&key.as_ref()))
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let mut url = url.clone();
    url.set_query(None);
    if !rest.is_empty() {
        url.query_pairs_mut().extend_pairs(rest);
    }
    url
}

struct Settings<'a> {
    url: &'a Url,
}

impl Settings<'_> {
    fn query(&self, name: &str) -> Option<String> {
        self.url
            .query_pairs()
            .filter(|(key, _)| key == name)
            .last()
            .map(|(_, value)| value.into_owned())
    }

    /// The URL's `name`, else the environment's `variable` (an empty one is unset), with
    /// where it came from.
    fn read(&self, name: &str, variable: &str) -> Option<(String, String)> {
        self.query(name)
            .map(|value| (value, name.to_owned()))
            .or_else(|| {
                std::env::var(variable)
                    .ok()
                    .filter(|value| !value.is_empty())
                    .map(|value| (value, format!("{name} (from {variable})")))
            })
    }
}

/// `~/.postgresql/NAME`, where libpq looks when the setting is absent.
fn default_file(name: &str) -> Option<PathBuf> {
    home::home_dir().map(|home| home.join(".postgresql").join(name))
}

fn invalid(message: String) -> StoreError {
    StoreError::Database(sqlx::Error::Configuration(message.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlx_reads_every_parameter_but_the_tls_ones() {
        let url = Url::parse(
            "postgres:///app?host=%2Frun%2Fpostgresql&sslmode=verify-full&user=me%40corp&sslrootcert=system&sslcert=c&sslkey=k",
        )
        .unwrap();
        assert_eq!(
            without_settings(&url).as_str(),
            "postgres:///app?host=%2Frun%2Fpostgresql&user=me%40corp"
        );
        let bare = Url::parse("postgres://db/app?sslmode=require").unwrap();
        assert_eq!(without_settings(&bare).as_str(), "postgres://db/app");
    }
}
