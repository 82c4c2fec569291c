//! What a node refuses, or warns about, before it serves
//! (`docs/security.md`):
//!
//! - development keys (made from a public seed: anyone can forge proofs for
//!   them) on a listen address that is not loopback: refused unless
//!   `allow_insecure = true`, which then warns at start and every
//!   [`WARNING_INTERVAL`];
//! - a node secret or database that other users can read, a key file that
//!   other users can write (a proving key holds no secret, but a replaced
//!   one makes every proof fail): refused unless `allow_insecure = true`;
//! - plain-text gRPC on a public address, metrics on a public address: a
//!   warning that names the setting.
//!
//! Loopback keeps the zero-configuration start (development keys, no TLS).

use std::path::Path;
use std::time::Duration;

use depin_groth16::keys::{is_dev, PROVING_KEY_FILE, VERIFYING_KEY_FILE};
use depin_halo2_prover::keys::statement_k;
use depin_halo2_prover::system::params_file;
use depin_proving::Backend;

use super::config::Config;
use super::prove::key_dir;
use super::ServeError;

/// How often an insecure condition allowed by `allow_insecure` is logged
/// again.
pub const WARNING_INTERVAL: Duration = Duration::from_secs(300);

/// Checks `config` before the node starts: an error for what it refuses,
/// else the insecure conditions `allow_insecure` let through (to be logged
/// again every [`WARNING_INTERVAL`]). Logs the warnings.
pub fn preflight(config: &Config) -> Result<Vec<String>, ServeError> {
    let mut allowed = Vec::new();
    let kinds = config.kinds_and_backends()?;
    let keys = config.keys_path();
    let mut dev = Vec::new();
    for (kind, backend) in &kinds {
        // The files whose absence makes development keys, and those a
        // stranger must not replace.
        let dir = key_dir(&keys, *kind, *backend);
        let (found, key_file) = match backend {
            Backend::Groth16 => (is_dev(&dir), PROVING_KEY_FILE.to_string()),
            Backend::Halo2 => (
                depin_halo2_prover::system::is_dev(&dir),
                params_file(statement_k(*kind)),
            ),
        };
        for f in [key_file.as_str(), VERIFYING_KEY_FILE] {
            allowed.extend(check_not_writable(&dir.join(f), config.allow_insecure)?);
        }
        let made = config.dev_keys && !dir.join(&key_file).exists();
        if found {
            tracing::warn!(
                statement = kind.as_str(),
                dir = %dir.display(),
                "these keys are INSECURE development keys (made from a public seed): anyone \
                 can forge proofs for them"
            );
        }
        if found || made {
            dev.push(kind.as_str());
        }
    }
    if config.is_public() && !dev.is_empty() {
        let what = format!(
            "serving on {}, which is not a loopback address, with INSECURE development keys \
             for {} (made from the public dev_seed: anyone can forge proofs for them)",
            config.listen,
            dev.join(", ")
        );
        if !config.allow_insecure {
            return Err(ServeError::Insecure(format!(
                "refusing to start: {what}. Put the keys of a phase-2 ceremony in {}/<statement>/ \
                 and set dev_keys = false, or listen on a loopback address (127.0.0.1); \
                 allow_insecure = true (--allow-insecure) starts anyway",
                keys.display()
            )));
        }
        allowed.push(format!("allow_insecure = true: {what}"));
    }
    if config.is_public() && config.tls_cert.is_none() {
        tracing::warn!(
            listen = %config.listen,
            "plain-text gRPC on an address that is not loopback: the operator token and \
             every record travel in clear; set tls_cert and tls_key (and tls_client_ca for \
             mutual TLS), or serve only behind a TLS load balancer on a private network"
        );
    }
    if let Ok(Some(m)) = config.metrics_addr() {
        if !m.ip().is_loopback() {
            tracing::warn!(
                metrics_listen = %m,
                "metrics on an address that is not loopback: set metrics_listen to a \
                 loopback or private address (or \"\" to disable)"
            );
        }
    }
    for w in &allowed {
        tracing::warn!("{w}");
    }
    Ok(allowed)
}

/// Refuses `path` (the node secret, the database) when other users can
/// read or write it, unless `allow_insecure`: then a warning, returned to
/// be repeated.
pub fn check_private(path: &Path, allow_insecure: bool) -> Result<Option<String>, ServeError> {
    match depin_durable::check_private(path) {
        Ok(()) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            if allow_insecure {
                let w = format!("allow_insecure = true: {e}");
                tracing::warn!("{w}");
                Ok(Some(w))
            } else {
                Err(ServeError::Insecure(format!(
                    "refusing to start: {e} (allow_insecure = true starts anyway)"
                )))
            }
        }
        Err(source) => Err(ServeError::Io {
            what: format!("reading the mode of {}", path.display()),
            source,
        }),
    }
}

/// Refuses a key file that other users can write, unless
/// `allow_insecure`: then a warning, returned to be repeated.
fn check_not_writable(path: &Path, allow_insecure: bool) -> Result<Option<String>, ServeError> {
    let mode = match depin_durable::mode(path) {
        Ok(Some(m)) => m,
        Ok(None) => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ServeError::Io {
                what: format!("reading the mode of {}", path.display()),
                source,
            })
        }
    };
    if mode & 0o022 == 0 {
        return Ok(None);
    }
    let what = format!(
        "{} can be written by other users (mode {mode:04o}): `chmod go-w` it",
        path.display()
    );
    if allow_insecure {
        let w = format!("allow_insecure = true: {what}");
        tracing::warn!("{w}");
        Ok(Some(w))
    } else {
        Err(ServeError::Insecure(format!(
            "refusing to start: {what} (allow_insecure = true starts anyway)"
        )))
    }
}

/// Logs `warnings` every [`WARNING_INTERVAL`] until `stop` turns true.
pub fn repeat_warnings(warnings: Vec<String>, mut stop: tokio::sync::watch::Receiver<bool>) {
    if warnings.is_empty() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(WARNING_INTERVAL);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    for w in &warnings {
                        tracing::warn!("{w}");
                    }
                }
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    });
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn config(dir: &Path) -> Config {
        Config {
            data_dir: dir.join("data"),
            keys_dir: Some(dir.join("keys")),
            dev_keys: false,
            statements: vec!["uptime".into()],
            ..Config::default()
        }
    }

    #[test]
    fn key_files_others_can_write_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let kd = dir.path().join("keys/uptime");
        std::fs::create_dir_all(&kd).unwrap();
        let pk = kd.join(PROVING_KEY_FILE);
        std::fs::write(&pk, b"k").unwrap();
        depin_durable::set_mode(&pk, 0o644).unwrap();
        assert!(preflight(&config(dir.path())).unwrap().is_empty());
        depin_durable::set_mode(&pk, 0o666).unwrap();
        let e = preflight(&config(dir.path())).unwrap_err().to_string();
        assert!(e.contains("chmod go-w"), "{e}");
        let allowed = preflight(&Config {
            allow_insecure: true,
            ..config(dir.path())
        })
        .unwrap();
        assert_eq!(allowed.len(), 1, "{allowed:?}");
    }

    #[test]
    fn halo2_development_parameters_on_a_public_address_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let public = |dev_keys| Config {
            listen: "0.0.0.0:50051".parse().unwrap(),
            dev_keys,
            backends: [("uptime".to_string(), "halo2".to_string())].into(),
            ..config(dir.path())
        };
        // A real Groth16 key does not stand for halo2's parameters: with
        // none, development parameters would be made.
        let kd = dir.path().join("keys/uptime");
        std::fs::create_dir_all(&kd).unwrap();
        std::fs::write(kd.join(PROVING_KEY_FILE), b"k").unwrap();
        let e = preflight(&public(true)).unwrap_err().to_string();
        assert!(e.contains("INSECURE development keys for uptime"), "{e}");
        // Made on an earlier start (marked): refused with dev_keys off too.
        let hd = kd.join("halo2");
        std::fs::create_dir_all(&hd).unwrap();
        let params = hd.join(params_file(statement_k(
            depin_statements::StatementKind::Uptime,
        )));
        std::fs::write(&params, b"p").unwrap();
        let marker = hd.join(depin_halo2_prover::system::DEV_MARKER_FILE);
        std::fs::write(&marker, b"m").unwrap();
        assert!(preflight(&public(false)).is_err());
        // Parameters of a ceremony: served.
        std::fs::remove_file(&marker).unwrap();
        assert!(preflight(&public(false)).unwrap().is_empty());
        // And not replaceable by other users.
        depin_durable::set_mode(&params, 0o666).unwrap();
        let e = preflight(&public(false)).unwrap_err().to_string();
        assert!(e.contains("chmod go-w"), "{e}");
    }

    #[test]
    fn shared_secrets_are_refused_unless_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let s = dir.path().join("node.secret");
        assert_eq!(check_private(&s, false).unwrap(), None, "missing is fine");
        std::fs::write(&s, [1u8; 32]).unwrap();
        depin_durable::set_mode(&s, 0o640).unwrap();
        let e = check_private(&s, false).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        assert!(check_private(&s, true).unwrap().is_some());
        depin_durable::set_mode(&s, 0o600).unwrap();
        assert_eq!(check_private(&s, false).unwrap(), None);
    }
}
