//! Files and directories that appear whole or not at all, for everything a
//! node creates on its first start (its database, its secret, development
//! keys): a start killed at any moment leaves either nothing or the whole
//! thing, and the next start cleans up after it.
//!
//! The protocol: write into a sibling temporary path no other writer uses
//! ([`temp_path`]: `.<name>.tmp-<pid>-<n>`), fsync what was written, move it
//! into place without replacing anything already there ([`publish`]: a hard
//! link for a file, a rename for a directory), and fsync the directory so
//! the new name survives a power cut. [`remove_stale`] removes the
//! temporaries of writers that are no longer running.
//!
//! Liveness is read from `/proc/<pid>` on Linux; elsewhere only the
//! process's own temporaries count as in progress.
//!
//! Owner-only: what a node creates holds its secrets (the node secret seeds
//! every proof's randomness), so files are created [`PRIVATE_FILE`] (0600)
//! and directories [`PRIVATE_DIR`] (0700), the mode given to `open`/`mkdir`
//! and then set explicitly, whatever the process's umask
//! ([`create_file`], [`create_private_dir_all`], [`restrict_tree`]).
//! [`check_private`] tells whether an existing file is readable by others.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The directory `path` is in (`.` for a bare name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The prefix of `target`'s temporaries: `.<name>.tmp-`.
fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.tmp-")
}

/// A fresh sibling of `target` to write it into: `.<name>.tmp-<pid>-<n>`,
/// unique to this process and call.
pub fn temp_path(target: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    parent(target).join(format!("{}{}-{n}", temp_prefix(target), std::process::id()))
}

/// Whether process `pid` is running.
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        false
    }
}

/// Removes the temporaries of `target` left by writers that are no longer
/// running (a start killed while creating it); returns how many.
pub fn remove_stale(target: &Path) -> io::Result<usize> {
    let dir = parent(target);
    let prefix = temp_prefix(target);
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(alive) {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(&path)?;
        } else {
            fs::remove_file(&path)?;
        }
        removed += 1;
    }
    if removed > 0 {
        sync_dir(dir)?;
    }
    Ok(removed)
}

/// fsyncs a directory (its entries: names created, renamed or removed).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// fsyncs a file, or a directory with every file below it.
pub fn sync_tree(path: &Path) -> io::Result<()> {
    if path.is_dir() {
        for entry in fs::read_dir(path)? {
            sync_tree(&entry?.path())?;
        }
    }
    File::open(path)?.sync_all()
}

/// Moves the written temporary `tmp` (a file or a directory) to `target`
/// without replacing anything already there: its contents are fsynced
/// first and the directory after. `Ok(false)` when `target` already
/// existed (another writer won; `tmp` is removed).
pub fn publish(tmp: &Path, target: &Path) -> io::Result<bool> {
    sync_tree(tmp)?;
    let placed = if tmp.is_dir() {
        // A rename never replaces a non-empty directory; an empty one at
        // the target is not a published one.
        match fs::rename(tmp, target) {
            Ok(()) => true,
            Err(_) if target.exists() => false,
            Err(e) => {
                let _ = fs::remove_dir_all(tmp);
                return Err(e);
            }
        }
    } else {
        match fs::hard_link(tmp, target) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
            Err(e) => {
                let _ = fs::remove_file(tmp);
                return Err(e);
            }
        }
    };
    if tmp.is_dir() {
        fs::remove_dir_all(tmp)?;
    } else if tmp.exists() {
        fs::remove_file(tmp)?;
    }
    sync_dir(parent(target))?;
    Ok(placed)
}

/// The mode of every file a node creates: read and write for its owner
/// only.
pub const PRIVATE_FILE: u32 = 0o600;
/// The mode of every directory a node creates: its owner only.
pub const PRIVATE_DIR: u32 = 0o700;

/// Sets `path`'s permission bits to `mode` exactly (not masked by the
/// umask). A no-op where there are no Unix permissions.
pub fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// The permission bits of `path` (`None` where there are none).
pub fn mode(path: &Path) -> io::Result<Option<u32>> {
    let meta = fs::metadata(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(Some(meta.permissions().mode() & 0o7777))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(None)
    }
}

/// A new file at `path` (which must not exist) that only its owner can
/// read or write, from the moment it exists: created with
/// [`PRIVATE_FILE`], then set to it explicitly.
pub fn create_private(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(PRIVATE_FILE);
    }
    let f = o.open(path)?;
    set_mode(path, PRIVATE_FILE)?;
    Ok(f)
}

/// Creates the directory `dir` and its missing parents; the ones created
/// here are [`PRIVATE_DIR`] (set explicitly), existing ones keep their
/// mode.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(p) = dir.parent() {
        create_private_dir_all(p)?;
    }
    let mut b = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(PRIVATE_DIR);
    }
    match b.create(dir) {
        Ok(()) => set_mode(dir, PRIVATE_DIR),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Makes `path` owner-only: a file [`PRIVATE_FILE`], a directory
/// [`PRIVATE_DIR`] with everything below it.
pub fn restrict_tree(path: &Path) -> io::Result<()> {
    if path.is_dir() {
        set_mode(path, PRIVATE_DIR)?;
        for entry in fs::read_dir(path)? {
            restrict_tree(&entry?.path())?;
        }
        Ok(())
    } else {
        set_mode(path, PRIVATE_FILE)
    }
}

/// Refuses a file that other users can read or write (group or other
/// permission bits set), with the command that fixes it.
pub fn check_private(path: &Path) -> io::Result<()> {
    match mode(path)? {
        Some(m) if m & 0o077 != 0 => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is accessible to other users (mode {m:04o}): it must be readable by its \
                 owner only (`chmod 600 {}`)",
                path.display(),
                path.display()
            ),
        )),
        _ => Ok(()),
    }
}

/// Creates the file `target` holding `bytes`, whole or not at all, unless
/// it exists: `Ok(false)` when another writer created it first. The file
/// is owner-only ([`PRIVATE_FILE`]) from the moment it exists.
pub fn create_file(target: &Path, bytes: &[u8]) -> io::Result<bool> {
    let tmp = temp_path(target);
    {
        let mut f = create_private(&tmp)?;
        f.write_all(bytes)?;
    }
    publish(&tmp, target)
}

/// Writes the file `target` holding `bytes`, whole or not at all,
/// replacing any file there (a cache a writer may refresh): the
/// temporary is fsynced, renamed over `target`, and the directory fsynced;
/// on failure the temporary is removed. Owner-only ([`PRIVATE_FILE`]).
pub fn replace_file(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path(target);
    let written = create_private(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, target))
        .and_then(|()| sync_dir(parent(target)));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaced_files_appear_whole_and_leave_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("batch.pk");
        replace_file(&f, b"first").unwrap();
        replace_file(&f, b"second").unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"second");
        #[cfg(unix)]
        assert_eq!(mode(&f).unwrap(), Some(PRIVATE_FILE));
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "no temporary is left");
        let missing = dir.path().join("no/such/dir/batch.pk");
        assert!(replace_file(&missing, b"x").is_err());
    }

    #[test]
    fn files_appear_whole_and_are_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("node.secret");
        assert!(create_file(&f, b"first").unwrap());
        assert!(!create_file(&f, b"second").unwrap());
        assert_eq!(fs::read(&f).unwrap(), b"first");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "no temporary is left");
    }

    #[cfg(unix)]
    #[test]
    fn files_and_directories_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("a/b");
        create_private_dir_all(&d).unwrap();
        assert_eq!(mode(&d).unwrap(), Some(PRIVATE_DIR));
        assert_eq!(mode(&dir.path().join("a")).unwrap(), Some(PRIVATE_DIR));
        let f = d.join("node.secret");
        assert!(create_file(&f, b"s").unwrap());
        assert_eq!(mode(&f).unwrap(), Some(PRIVATE_FILE));
        check_private(&f).unwrap();
        set_mode(&f, 0o644).unwrap();
        let e = check_private(&f).unwrap_err();
        assert!(e.to_string().contains("chmod 600"), "{e}");
        let t = dir.path().join("tree");
        fs::create_dir(&t).unwrap();
        fs::write(t.join("k"), b"k").unwrap();
        set_mode(&t, 0o755).unwrap();
        set_mode(&t.join("k"), 0o644).unwrap();
        restrict_tree(&t).unwrap();
        assert_eq!(mode(&t).unwrap(), Some(PRIVATE_DIR));
        assert_eq!(mode(&t.join("k")).unwrap(), Some(PRIVATE_FILE));
    }

    #[test]
    fn directories_appear_whole_and_are_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("keys");
        for (i, winner) in [(1u8, true), (2, false)] {
            let tmp = temp_path(&target);
            fs::create_dir_all(&tmp).unwrap();
            fs::write(tmp.join("a.bin"), [i; 4]).unwrap();
            assert_eq!(publish(&tmp, &target).unwrap(), winner);
            assert!(!tmp.exists());
        }
        assert_eq!(fs::read(target.join("a.bin")).unwrap(), [1; 4]);
    }

    #[test]
    fn only_dead_writers_leftovers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("prover.redb");
        // A dead writer (no such pid) left a file and a directory; this
        // process has one in progress; an unrelated file stays.
        let dead = u32::MAX - 7;
        let stale_file = dir.path().join(format!(".prover.redb.tmp-{dead}-0"));
        let stale_dir = dir.path().join(format!(".prover.redb.tmp-{dead}-1"));
        fs::write(&stale_file, b"half").unwrap();
        fs::create_dir(&stale_dir).unwrap();
        let mine = temp_path(&target);
        fs::write(&mine, b"in progress").unwrap();
        let other = dir.path().join("prover.redb.bak");
        fs::write(&other, b"kept").unwrap();
        assert_eq!(remove_stale(&target).unwrap(), 2);
        assert!(!stale_file.exists() && !stale_dir.exists());
        assert!(mine.exists() && other.exists());
        assert_eq!(remove_stale(&dir.path().join("missing/x")).unwrap(), 0);
    }
}
