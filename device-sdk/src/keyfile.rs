//! Private key files.
//!
//! A key file holds the key as 64 lowercase hex digits and a newline (the
//! format of `depin-device keygen` and `--key-hex`). It is created with mode
//! `0600` (never replacing an existing file) and synced to disk with its
//! directory. [`load`] refuses a key file that is not a regular file or
//! whose mode grants any access to group or others, as `ssh` does: such a
//! key must be considered leaked. Buffers that held key material are
//! zeroized; the returned [`PrivateKey`] zeroizes itself on drop.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use depin_crypto::eddsa::PrivateKey;
use zeroize::Zeroizing;

use crate::keys::{encode_private_key_hex, parse_private_key_hex, KeyError, KEY_HEX_LEN};

/// Why a key file was not written or loaded. Messages name the path, never
/// key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// A file already exists at the path (keys are never overwritten).
    #[error("key file {} already exists; refusing to overwrite it", .0.display())]
    Exists(PathBuf),
    /// The key file's mode gives access to group or others.
    #[error(
        "key file {} has mode {mode:04o}: it must not be accessible by group or others \
         (run `chmod 600 {}`)",
        path.display(),
        path.display()
    )]
    InsecurePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The path is not a regular file.
    #[error("key file {} is not a regular file", .0.display())]
    NotAFile(PathBuf),
    /// The contents are not a hex key.
    #[error("key file {}: {source}", path.display())]
    Format {
        /// The key file.
        path: PathBuf,
        /// What is wrong with the contents.
        source: KeyError,
    },
    /// Reading or writing failed.
    #[error("key file {}: {source}", path.display())]
    Io {
        /// The key file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `key` to a new file at `path` with mode 0600, then syncs the
/// file and its directory.
pub fn create(path: &Path, key: &PrivateKey) -> Result<(), KeyFileError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            KeyFileError::Exists(path.to_path_buf())
        } else {
            io(path)(e)
        }
    })?;
    // The umask may only remove bits, but make the mode exact anyway.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io(path))?;
    }
    let mut hex = Zeroizing::new([0u8; KEY_HEX_LEN]);
    encode_private_key_hex(key, &mut hex);
    let mut line = Zeroizing::new([0u8; KEY_HEX_LEN + 1]);
    line[..KEY_HEX_LEN].copy_from_slice(&hex[..]);
    line[KEY_HEX_LEN] = b'\n';
    file.write_all(&line[..]).map_err(io(path))?;
    file.sync_all().map_err(io(path))?;
    sync_parent(path).map_err(io(path))
}

/// Draws a fresh key from `rng`, writes it with [`create`] and returns it.
pub fn generate<R: rand_core::RngCore + rand_core::CryptoRng>(
    path: &Path,
    rng: &mut R,
) -> Result<PrivateKey, KeyFileError> {
    let key = PrivateKey::generate(rng);
    create(path, &key)?;
    Ok(key)
}

/// Loads a key file, refusing it unless it is a regular file that only its
/// owner can access.
pub fn load(path: &Path) -> Result<PrivateKey, KeyFileError> {
    let mut file = File::open(path).map_err(io(path))?;
    // Check the opened file, not the path (no race with a swapped file).
    let meta = file.metadata().map_err(io(path))?;
    if !meta.is_file() {
        return Err(KeyFileError::NotAFile(path.to_path_buf()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::InsecurePermissions {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    // A key file is 64 hex digits and a newline; read a little more to
    // report an overlong file by its length, never by its contents.
    let mut buf = Zeroizing::new([0u8; 2 * KEY_HEX_LEN]);
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(path)(e)),
        }
    }
    let text = &buf[..n];
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    let format = |source| KeyFileError::Format {
        path: path.to_path_buf(),
        source,
    };
    let s = std::str::from_utf8(text).map_err(|e| {
        format(KeyError::InvalidHex {
            index: e.valid_up_to(),
        })
    })?;
    parse_private_key_hex(s).map_err(format)
}

/// Syncs the directory holding `path`, so that a new name survives a crash.
pub(crate) fn sync_parent(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    sync_dir(dir)
}

/// Syncs a directory (a no-op where directories cannot be opened).
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn created_with_0600_and_loaded_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.key");
        let key = PrivateKey::from_bytes([5; 32]);
        create(&path, &key).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read(&path).unwrap().len(), 65);
        assert_eq!(load(&path).unwrap().as_bytes(), key.as_bytes());
        assert!(matches!(create(&path, &key), Err(KeyFileError::Exists(_))));
    }

    #[test]
    fn group_or_world_access_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.key");
        create(&path, &PrivateKey::from_bytes([5; 32])).unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660, 0o602, 0o610] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let err = load(&path).unwrap_err();
            assert!(
                matches!(err, KeyFileError::InsecurePermissions { mode: m, .. } if m == mode),
                "{mode:o}: {err}"
            );
            let msg = err.to_string();
            assert!(msg.contains("chmod 600"), "{msg}");
            assert!(!msg.contains("0505"), "no key material in {msg}");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        load(&path).unwrap();
    }

    #[test]
    fn bad_contents_and_paths_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, data: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, data).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
            p
        };
        let short = write("short", b"abcd\n");
        assert!(matches!(
            load(&short),
            Err(KeyFileError::Format {
                source: KeyError::Length { found: 4 },
                ..
            })
        ));
        let long = write("long", &[b'a'; 300]);
        assert!(matches!(
            load(&long),
            Err(KeyFileError::Format {
                source: KeyError::Length { found: 128 },
                ..
            })
        ));
        let binary = write("bin", &[0xff; 64]);
        assert!(matches!(load(&binary), Err(KeyFileError::Format { .. })));
        assert!(matches!(
            load(dir.path()),
            Err(KeyFileError::NotAFile(_)) | Err(KeyFileError::Io { .. })
        ));
        assert!(matches!(
            load(&dir.path().join("missing")),
            Err(KeyFileError::Io { .. })
        ));
    }
}
