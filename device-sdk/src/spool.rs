//! A durable on-disk spool of signed records the prover has not yet
//! acknowledged.
//!
//! A device appends each record as soon as it is signed and a submit loop
//! drains the spool: [`Spool::peek_batch`] the oldest records, send them,
//! then [`Spool::ack`] up to the last sequence number the prover confirmed.
//! The spool survives power loss and `kill -9` at any instant:
//!
//! - **Stored means durable.** [`Spool::append`] returns the record's
//!   sequence number only after the entry is written and `fdatasync`ed (and,
//!   for a new segment, the file and its directory synced).
//! - **Never delivered corrupted.** Every entry carries a magic number, its
//!   length, its sequence number and a CRC-32 of all three and the payload.
//!   Opening the spool scans every segment: a torn write at the tail of the
//!   newest segment (a partial entry, a bad checksum) is dropped and the
//!   file truncated to its last whole entry; a damaged region anywhere else
//!   (media corruption) is skipped up to the next entry that checks out, and
//!   counted in [`Recovery`]. [`Spool::peek_batch`] checks each entry's CRC
//!   again when it reads it.
//! - **Order and exactly once.** Sequence numbers start at 1 and increase
//!   by one per append (they are never reused once acknowledged); records
//!   are delivered in that order, and an acknowledged record is never
//!   delivered again: the acknowledgement cursor is a small checksummed file
//!   replaced atomically (write `ack.tmp`, sync, rename to `ack`, sync the
//!   directory) before `ack` returns.
//! - **Bounded.** The files never exceed [`SpoolConfig::max_bytes`]. When a
//!   record does not fit, [`Spool::append`] fails with [`SpoolError::Full`]
//!   and nothing is written: the spool never drops a stored record to make
//!   room. The application decides (keep the record in memory and retry
//!   after the next acknowledgement, or drop the *new* record and count it).
//! - **Compaction.** Records live in segment files (`<first seq>.seg`, about
//!   [`SpoolConfig::segment_bytes`] each); a segment is deleted as soon as
//!   every record in it is acknowledged.
//! - **One writer.** The directory is locked (`flock` on `lock`) while a
//!   `Spool` is open; a second open fails with [`SpoolError::Locked`].
//!
//! Layout of a segment: the magic `DPSSEG01`, then entries of
//! `magic "DPR1" | len: u32 | seq: u64 | crc32(len, seq, payload): u32 |
//! payload`, integers little-endian. `ack` is `DPSACK01 | seq: u64 |
//! crc32(magic, seq): u32`.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::keyfile::sync_dir;

/// The first bytes of every segment file.
pub const SEGMENT_MAGIC: [u8; 8] = *b"DPSSEG01";
/// The first bytes of every entry.
pub const ENTRY_MAGIC: [u8; 4] = *b"DPR1";
/// Bytes of an entry's header (magic, length, sequence number, CRC).
pub const ENTRY_HEADER_LEN: u64 = 20;
/// Bytes of a segment's header.
pub const SEGMENT_HEADER_LEN: u64 = SEGMENT_MAGIC.len() as u64;
/// The largest payload any spool accepts (whatever its configuration).
pub const ENTRY_LEN_LIMIT: u32 = 1 << 24;

const ACK_MAGIC: [u8; 8] = *b"DPSACK01";
const ACK_FILE: &str = "ack";
const ACK_TMP: &str = "ack.tmp";
const LOCK_FILE: &str = "lock";
const SEGMENT_EXT: &str = "seg";

/// Limits and durability of a spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolConfig {
    /// The most bytes the spool's files (segments) may hold.
    pub max_bytes: u64,
    /// A new segment is started once the current one would exceed this.
    pub segment_bytes: u64,
    /// The largest payload accepted.
    pub max_entry_bytes: u32,
    /// Whether appends and acknowledgements are synced to disk before they
    /// return (`true` unless durability does not matter, e.g. a simulator).
    pub sync: bool,
}

impl Default for SpoolConfig {
    /// 64 MiB in 1 MiB segments, entries up to 64 KiB, synced.
    fn default() -> Self {
        SpoolConfig::with_max_bytes(64 << 20)
    }
}

impl SpoolConfig {
    /// A synced spool of at most `max_bytes`, in segments of an eighth of
    /// that (between 4 KiB and 1 MiB), entries up to 64 KiB (or what fits).
    pub fn with_max_bytes(max_bytes: u64) -> Self {
        let overhead = SEGMENT_HEADER_LEN + ENTRY_HEADER_LEN;
        SpoolConfig {
            max_bytes,
            segment_bytes: (max_bytes / 8).clamp(4 << 10, 1 << 20),
            max_entry_bytes: max_bytes.saturating_sub(overhead).min(64 << 10) as u32,
            sync: true,
        }
    }

    fn validate(&self) -> Result<(), SpoolError> {
        if self.max_entry_bytes == 0 || self.max_entry_bytes > ENTRY_LEN_LIMIT {
            return Err(SpoolError::InvalidConfig(
                "max_entry_bytes must be between 1 and 2^24",
            ));
        }
        let overhead = SEGMENT_HEADER_LEN + ENTRY_HEADER_LEN;
        if self.max_bytes < overhead + u64::from(self.max_entry_bytes) {
            return Err(SpoolError::InvalidConfig(
                "max_bytes must hold at least one entry of max_entry_bytes",
            ));
        }
        if self.segment_bytes < overhead {
            return Err(SpoolError::InvalidConfig(
                "segment_bytes must hold at least an entry header",
            ));
        }
        Ok(())
    }
}

/// Why a spool operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// Another process (or another `Spool` in this one) has it open.
    #[error("spool {} is in use by another process", .0.display())]
    Locked(PathBuf),
    /// The record does not fit under the size bound; nothing was written.
    #[error("spool is full: {used} of {limit} bytes used, the record needs {needed} more")]
    Full {
        /// Bytes the spool's files use.
        used: u64,
        /// The bound ([`SpoolConfig::max_bytes`]).
        limit: u64,
        /// Bytes the record would add.
        needed: u64,
    },
    /// The record is longer than [`SpoolConfig::max_entry_bytes`].
    #[error("record of {len} bytes is larger than the spool's limit of {max}")]
    RecordTooLarge {
        /// The record's length.
        len: usize,
        /// The limit.
        max: u32,
    },
    /// An acknowledgement names a record that was never appended.
    #[error("cannot acknowledge up to {upto}: the last record is {last}")]
    AckBeyondEnd {
        /// The sequence number acknowledged.
        upto: u64,
        /// The last sequence number appended (0 when none).
        last: u64,
    },
    /// The configuration is inconsistent.
    #[error("invalid spool configuration: {0}")]
    InvalidConfig(&'static str),
    /// An earlier write or sync failed and could not be undone; reopen the
    /// spool (which recovers it) before appending again.
    #[error("an earlier write failed and could not be undone; reopen the spool")]
    Poisoned,
    /// A file operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What opening a spool found and repaired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Bytes of torn writes dropped from the tail of the newest segment.
    pub torn_tail_bytes: u64,
    /// Damaged regions skipped (each may have held one or more records),
    /// including entries whose CRC failed when read back later.
    pub corrupt_regions: u64,
    /// Bytes in those regions.
    pub corrupt_bytes: u64,
    /// The acknowledgement cursor was unreadable and was rebuilt from the
    /// oldest remaining segment (records in it may be delivered again).
    pub ack_cursor_lost: bool,
    /// Fully acknowledged segments deleted while opening.
    pub segments_removed: u64,
    /// Whole entries found (acknowledged or not).
    pub entries: u64,
}

/// A record read back from the spool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpooledRecord {
    /// Its sequence number (acknowledge up to it once the prover has it).
    pub seq: u64,
    /// The bytes appended.
    pub payload: Vec<u8>,
}

#[derive(Debug)]
struct Segment {
    base: u64,
    path: PathBuf,
    len: u64,
    /// Sequence number of its last entry; 0 when it has none.
    last_seq: u64,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    seq: u64,
    segment: u64,
    offset: u64,
    len: u32,
}

/// The spool: see the module docs.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    cfg: SpoolConfig,
    _lock: File,
    segments: VecDeque<Segment>,
    /// Append handle of the newest segment.
    active: Option<File>,
    /// Read handle of one segment.
    reader: Option<(u64, File)>,
    pending: VecDeque<Pending>,
    acked: u64,
    next_seq: u64,
    used: u64,
    recovery: Recovery,
    poisoned: bool,
}

fn crc(len: u32, seq: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(&seq.to_le_bytes());
    h.update(payload);
    h.finalize()
}

fn le_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// An entry starting at `pos` of `data`, if it is whole and checks out:
/// `(seq, payload length)`.
fn parse_entry(data: &[u8], pos: usize) -> Option<(u64, u32)> {
    let header = data.get(pos..pos + ENTRY_HEADER_LEN as usize)?;
    if header[..4] != ENTRY_MAGIC {
        return None;
    }
    let len = le_u32(&header[4..]);
    let seq = le_u64(&header[8..]);
    let sum = le_u32(&header[16..]);
    if len > ENTRY_LEN_LIMIT || seq == 0 {
        return None;
    }
    let start = pos + ENTRY_HEADER_LEN as usize;
    let payload = data.get(start..start + len as usize)?;
    (crc(len, seq, payload) == sum).then_some((seq, len))
}

fn segment_name(base: u64) -> String {
    format!("{base:020}.{SEGMENT_EXT}")
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".seg")?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

fn encode_ack(seq: u64) -> [u8; 20] {
    let mut b = [0u8; 20];
    b[..8].copy_from_slice(&ACK_MAGIC);
    b[8..16].copy_from_slice(&seq.to_le_bytes());
    let sum = crc32fast::hash(&b[..16]);
    b[16..].copy_from_slice(&sum.to_le_bytes());
    b
}

fn decode_ack(b: &[u8]) -> Option<u64> {
    if b.len() != 20 || b[..8] != ACK_MAGIC || crc32fast::hash(&b[..16]) != le_u32(&b[16..]) {
        return None;
    }
    Some(le_u64(&b[8..]))
}

#[cfg(unix)]
fn lock(file: &File, dir: &Path) -> Result<(), SpoolError> {
    use rustix::fs::{flock, FlockOperation};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(()),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(SpoolError::Locked(dir.to_path_buf())),
        Err(e) => Err(io(dir)(e.into())),
    }
}

#[cfg(not(unix))]
fn lock(_file: &File, _dir: &Path) -> Result<(), SpoolError> {
    Ok(())
}

impl Spool {
    /// Opens (creating if needed) the spool in `dir`, recovering from any
    /// crash: see the module docs and [`Spool::recovery`].
    pub fn open(dir: impl AsRef<Path>, cfg: SpoolConfig) -> Result<Spool, SpoolError> {
        cfg.validate()?;
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        lock(&lock_file, &dir)?;

        let mut spool = Spool {
            dir,
            cfg,
            _lock: lock_file,
            segments: VecDeque::new(),
            active: None,
            reader: None,
            pending: VecDeque::new(),
            acked: 0,
            next_seq: 1,
            used: 0,
            recovery: Recovery::default(),
            poisoned: false,
        };
        spool.recover()?;
        Ok(spool)
    }

    /// Scans the segment starting at `base` during recovery: appends its
    /// whole entries (after `last_seq`) to `entries`, counts damage, and
    /// truncates a torn tail of the last segment (`is_last`).
    fn scan_segment(
        &mut self,
        base: u64,
        is_last: bool,
        last_seq: &mut u64,
        entries: &mut Vec<Pending>,
    ) -> Result<(), SpoolError> {
        let path = self.dir.join(segment_name(base));
        let data = std::fs::read(&path).map_err(io(&path))?;
        let header = SEGMENT_HEADER_LEN as usize;
        if data.len() < header && is_last {
            // A segment whose creation was cut short (or whose header
            // is damaged before any entry): it holds no entry, start it
            // afresh so that entries stay after the header.
            if SEGMENT_MAGIC.starts_with(&data) {
                self.recovery.torn_tail_bytes += data.len() as u64;
            } else {
                self.recovery.corrupt_regions += 1;
                self.recovery.corrupt_bytes += data.len() as u64;
            }
            let mut f = File::create(&path).map_err(io(&path))?;
            f.write_all(&SEGMENT_MAGIC).map_err(io(&path))?;
            f.sync_all().map_err(io(&path))?;
            self.segments.push_back(Segment {
                base,
                path,
                len: SEGMENT_HEADER_LEN,
                last_seq: 0,
            });
            return Ok(());
        }
        if data.get(..header) != Some(&SEGMENT_MAGIC[..]) {
            self.recovery.corrupt_regions += 1;
            self.recovery.corrupt_bytes += data.len().min(header) as u64;
        }
        let mut pos = header;
        let mut good_end = header.min(data.len());
        let mut seg_last = 0u64;
        let valid = |pos: usize, prev: u64| {
            parse_entry(&data, pos).filter(|&(seq, _)| seq > prev && seq >= base)
        };
        while pos < data.len() {
            if let Some((seq, len)) = valid(pos, *last_seq) {
                entries.push(Pending {
                    seq,
                    segment: base,
                    offset: pos as u64,
                    len,
                });
                *last_seq = seq;
                seg_last = seq;
                pos += ENTRY_HEADER_LEN as usize + len as usize;
                good_end = pos;
                continue;
            }
            // Damage at `pos`: resynchronise on the next whole entry.
            let next = (pos + 1..data.len())
                .find(|&p| data[p..].starts_with(&ENTRY_MAGIC) && valid(p, *last_seq).is_some());
            match next {
                Some(p) => {
                    self.recovery.corrupt_regions += 1;
                    self.recovery.corrupt_bytes += (p - pos) as u64;
                    pos = p;
                }
                None => break,
            }
        }
        let tail = data.len() - good_end;
        let mut len = data.len() as u64;
        if tail > 0 {
            if is_last {
                // A torn write: drop it so that appends continue after
                // the last whole entry.
                self.recovery.torn_tail_bytes += tail as u64;
                let f = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(io(&path))?;
                f.set_len(good_end as u64).map_err(io(&path))?;
                f.sync_all().map_err(io(&path))?;
                len = good_end as u64;
            } else {
                self.recovery.corrupt_regions += 1;
                self.recovery.corrupt_bytes += tail as u64;
            }
        }
        self.segments.push_back(Segment {
            base,
            path,
            len,
            last_seq: seg_last,
        });
        Ok(())
    }

    fn recover(&mut self) -> Result<(), SpoolError> {
        let tmp = self.dir.join(ACK_TMP);
        match std::fs::remove_file(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&tmp)(e)),
        }
        let ack_path = self.dir.join(ACK_FILE);
        let ack = match std::fs::read(&ack_path) {
            Ok(b) => decode_ack(&b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(0),
            Err(e) => return Err(io(&ack_path)(e)),
        };

        let mut bases = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let entry = entry.map_err(io(&self.dir))?;
            if let Some(base) = entry.file_name().to_str().and_then(parse_segment_name) {
                bases.push(base);
            }
        }
        bases.sort_unstable();

        // Scan every segment; collect every whole entry in order.
        let mut entries: Vec<Pending> = Vec::new();
        let mut last_seq = 0u64;
        let count = bases.len();
        for (i, &base) in bases.iter().enumerate() {
            self.scan_segment(base, i + 1 == count, &mut last_seq, &mut entries)?;
        }
        self.recovery.entries = entries.len() as u64;

        let newest_base = self.segments.back().map_or(0, |s| s.base);
        self.acked = match ack {
            Some(a) => a,
            None => {
                self.recovery.ack_cursor_lost = true;
                entries
                    .first()
                    .map_or(newest_base.max(1) - 1, |e| e.seq - 1)
            }
        };
        self.next_seq = last_seq.max(self.acked).max(newest_base.max(1) - 1) + 1;
        if ack.is_none() {
            self.write_ack(self.acked)?;
        }
        self.pending = entries.into_iter().filter(|e| e.seq > self.acked).collect();
        self.used = self.segments.iter().map(|s| s.len).sum();
        self.recovery.segments_removed = self.compact()?;
        if let Some(seg) = self.segments.back() {
            let f = OpenOptions::new()
                .append(true)
                .open(&seg.path)
                .map_err(io(&seg.path))?;
            self.active = Some(f);
        }
        Ok(())
    }

    /// The spool's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &SpoolConfig {
        &self.cfg
    }

    /// What opening it found and repaired (and CRC failures seen since).
    pub fn recovery(&self) -> Recovery {
        self.recovery
    }

    /// Records stored and not yet acknowledged.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Payload bytes of the records not yet acknowledged.
    pub fn pending_bytes(&self) -> u64 {
        self.pending.iter().map(|p| u64::from(p.len)).sum()
    }

    /// Bytes the spool's segment files use (bounded by `max_bytes`).
    pub fn used_bytes(&self) -> u64 {
        self.used
    }

    /// The last sequence number acknowledged (0 when none).
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// The sequence number the next append will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Segment files on disk.
    pub fn segments(&self) -> usize {
        self.segments.len()
    }

    /// Appends a record; returns its sequence number once it is durable.
    ///
    /// Fails with [`SpoolError::Full`] (writing nothing) when the record
    /// does not fit under the size bound.
    pub fn append(&mut self, payload: &[u8]) -> Result<u64, SpoolError> {
        if self.poisoned {
            return Err(SpoolError::Poisoned);
        }
        if payload.len() > self.cfg.max_entry_bytes as usize {
            return Err(SpoolError::RecordTooLarge {
                len: payload.len(),
                max: self.cfg.max_entry_bytes,
            });
        }
        let entry_len = ENTRY_HEADER_LEN + payload.len() as u64;
        let new_segment = match self.segments.back() {
            None => true,
            Some(s) => s.last_seq != 0 && s.len + entry_len > self.cfg.segment_bytes,
        };
        let needed = entry_len + if new_segment { SEGMENT_HEADER_LEN } else { 0 };
        if self.used + needed > self.cfg.max_bytes {
            return Err(SpoolError::Full {
                used: self.used,
                limit: self.cfg.max_bytes,
                needed,
            });
        }
        if new_segment {
            self.start_segment()?;
        }
        let seq = self.next_seq;
        let len = payload.len() as u32;
        let mut buf = Vec::with_capacity(entry_len as usize);
        buf.extend_from_slice(&ENTRY_MAGIC);
        buf.extend_from_slice(&len.to_le_bytes());
        buf.extend_from_slice(&seq.to_le_bytes());
        buf.extend_from_slice(&crc(len, seq, payload).to_le_bytes());
        buf.extend_from_slice(payload);

        let (Some(seg), Some(file)) = (self.segments.back_mut(), self.active.as_mut()) else {
            return Err(SpoolError::Poisoned);
        };
        let offset = seg.len;
        let written = file.write_all(&buf).and_then(|()| {
            if self.cfg.sync {
                file.sync_data()
            } else {
                Ok(())
            }
        });
        if let Err(e) = written {
            // Undo a partial write; if that fails too, only a reopen (which
            // drops the torn tail) can make the file consistent again.
            if file
                .set_len(offset)
                .and_then(|()| file.sync_data())
                .is_err()
            {
                self.poisoned = true;
            }
            return Err(io(&seg.path)(e));
        }
        seg.len += entry_len;
        seg.last_seq = seq;
        self.used += entry_len;
        self.next_seq += 1;
        self.pending.push_back(Pending {
            seq,
            segment: seg.base,
            offset,
            len,
        });
        Ok(seq)
    }

    fn start_segment(&mut self) -> Result<(), SpoolError> {
        let base = self.next_seq;
        let path = self.dir.join(segment_name(base));
        let mut f = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(io(&path))?;
        let r = f.write_all(&SEGMENT_MAGIC).and_then(|()| {
            if self.cfg.sync {
                f.sync_all().and_then(|()| sync_dir(&self.dir))
            } else {
                Ok(())
            }
        });
        if let Err(e) = r {
            // Nothing references the new file yet: remove it.
            let _ = std::fs::remove_file(&path);
            return Err(io(&path)(e));
        }
        self.segments.push_back(Segment {
            base,
            path,
            len: SEGMENT_HEADER_LEN,
            last_seq: 0,
        });
        self.used += SEGMENT_HEADER_LEN;
        self.active = Some(f);
        Ok(())
    }

    /// The oldest `n` records not yet acknowledged, in order, without
    /// removing them. An entry whose CRC no longer checks out is skipped
    /// (and counted in [`Spool::recovery`]), never returned.
    pub fn peek_batch(&mut self, n: usize) -> Result<Vec<SpooledRecord>, SpoolError> {
        self.peek_after(0, n)
    }

    /// Like [`Spool::peek_batch`], starting after sequence number `after`.
    pub fn peek_after(&mut self, after: u64, n: usize) -> Result<Vec<SpooledRecord>, SpoolError> {
        let mut i = self.pending.partition_point(|p| p.seq <= after);
        let mut out = Vec::with_capacity(n.min(self.pending.len() - i));
        while out.len() < n && i < self.pending.len() {
            let p = self.pending[i];
            match self.read_entry(&p)? {
                Some(payload) => {
                    out.push(SpooledRecord {
                        seq: p.seq,
                        payload,
                    });
                    i += 1;
                }
                None => {
                    self.recovery.corrupt_regions += 1;
                    self.recovery.corrupt_bytes += ENTRY_HEADER_LEN + u64::from(p.len);
                    self.pending.remove(i);
                }
            }
        }
        Ok(out)
    }

    fn read_entry(&mut self, p: &Pending) -> Result<Option<Vec<u8>>, SpoolError> {
        let path = self.dir.join(segment_name(p.segment));
        if self.reader.as_ref().map(|(b, _)| *b) != Some(p.segment) {
            let f = File::open(&path).map_err(io(&path))?;
            self.reader = Some((p.segment, f));
        }
        let Some((_, f)) = self.reader.as_mut() else {
            return Ok(None);
        };
        let mut buf = vec![0u8; ENTRY_HEADER_LEN as usize + p.len as usize];
        let read = f
            .seek(SeekFrom::Start(p.offset))
            .and_then(|_| f.read_exact(&mut buf));
        match read {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(io(&path)(e)),
        }
        match parse_entry(&buf, 0) {
            Some((seq, len)) if seq == p.seq && len == p.len => {
                buf.drain(..ENTRY_HEADER_LEN as usize);
                Ok(Some(buf))
            }
            _ => Ok(None),
        }
    }

    /// Acknowledges every record up to and including `upto`: they will
    /// never be delivered again, and segments holding only acknowledged
    /// records are deleted. Acknowledging an already acknowledged number
    /// does nothing.
    pub fn ack(&mut self, upto: u64) -> Result<(), SpoolError> {
        if upto <= self.acked {
            return Ok(());
        }
        if upto >= self.next_seq {
            return Err(SpoolError::AckBeyondEnd {
                upto,
                last: self.next_seq - 1,
            });
        }
        self.write_ack(upto)?;
        self.acked = upto;
        while self.pending.front().is_some_and(|p| p.seq <= upto) {
            self.pending.pop_front();
        }
        self.compact()?;
        Ok(())
    }

    fn write_ack(&self, seq: u64) -> Result<(), SpoolError> {
        let tmp = self.dir.join(ACK_TMP);
        let dst = self.dir.join(ACK_FILE);
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&encode_ack(seq)).map_err(io(&tmp))?;
        if self.cfg.sync {
            f.sync_all().map_err(io(&tmp))?;
        }
        drop(f);
        std::fs::rename(&tmp, &dst).map_err(io(&dst))?;
        if self.cfg.sync {
            sync_dir(&self.dir).map_err(io(&self.dir))?;
        }
        Ok(())
    }

    /// Deletes the segments whose records are all acknowledged; returns how
    /// many. ([`Spool::ack`] calls it.)
    pub fn compact(&mut self) -> Result<u64, SpoolError> {
        let mut removed = 0;
        while let Some(front) = self.segments.front() {
            let only = self.segments.len() == 1;
            let done = front.last_seq <= self.acked && !(only && front.last_seq == 0);
            if !done {
                break;
            }
            if only {
                self.active = None;
            }
            if self.reader.as_ref().map(|(b, _)| *b) == Some(front.base) {
                self.reader = None;
            }
            match std::fs::remove_file(&front.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&front.path)(e)),
            }
            self.used -= front.len;
            self.segments.pop_front();
            removed += 1;
        }
        if removed > 0 && self.cfg.sync {
            sync_dir(&self.dir).map_err(io(&self.dir))?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(max: u64, seg: u64) -> SpoolConfig {
        SpoolConfig {
            max_bytes: max,
            segment_bytes: seg,
            max_entry_bytes: 1000,
            sync: true,
        }
    }

    fn payload(i: u64) -> Vec<u8> {
        let n = (i * 37 % 200) as usize + 1;
        (0..n).map(|j| (i as usize * 31 + j) as u8).collect()
    }

    fn all(s: &mut Spool) -> Vec<SpooledRecord> {
        s.peek_batch(usize::MAX).unwrap()
    }

    fn segment_files(dir: &Path) -> Vec<PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "seg"))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn appends_survive_reopen_in_order_and_acks_are_durable() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(1 << 20, 1024);
        {
            let mut s = Spool::open(dir.path(), c).unwrap();
            for i in 1..=50 {
                assert_eq!(s.append(&payload(i)).unwrap(), i);
            }
            assert!(s.segments() > 3, "rolled over: {}", s.segments());
            let got = s.peek_batch(10).unwrap();
            assert_eq!(got.len(), 10);
            assert_eq!(got[3].payload, payload(4));
            s.ack(got[9].seq).unwrap();
            assert_eq!(s.pending(), 40);
        }
        let mut s = Spool::open(dir.path(), c).unwrap();
        assert_eq!(s.recovery().torn_tail_bytes, 0);
        assert_eq!(s.acked(), 10);
        let got = all(&mut s);
        assert_eq!(got.len(), 40);
        for (k, r) in got.iter().enumerate() {
            assert_eq!(r.seq, 11 + k as u64);
            assert_eq!(r.payload, payload(r.seq));
        }
        assert_eq!(s.append(b"x").unwrap(), 51);
    }

    #[test]
    fn fully_acked_segments_are_deleted_and_seqs_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(1 << 20, 512);
        let mut s = Spool::open(dir.path(), c).unwrap();
        for i in 1..=30 {
            s.append(&payload(i)).unwrap();
        }
        let before = segment_files(dir.path()).len();
        s.ack(15).unwrap();
        let after = segment_files(dir.path()).len();
        assert!(after < before, "{before} -> {after}");
        assert_eq!(s.used_bytes(), {
            segment_files(dir.path())
                .iter()
                .map(|p| std::fs::metadata(p).unwrap().len())
                .sum::<u64>()
        });
        s.ack(30).unwrap();
        assert_eq!(segment_files(dir.path()).len(), 0);
        assert_eq!(s.used_bytes(), 0);
        drop(s);
        let mut s = Spool::open(dir.path(), c).unwrap();
        assert_eq!(s.next_seq(), 31);
        assert_eq!(s.append(b"again").unwrap(), 31);
        assert!(matches!(
            s.ack(32),
            Err(SpoolError::AckBeyondEnd { upto: 32, last: 31 })
        ));
        s.ack(3).unwrap();
        assert_eq!(all(&mut s)[0].payload, b"again");
    }

    #[test]
    fn full_spool_refuses_new_records_and_keeps_the_old() {
        let dir = tempfile::tempdir().unwrap();
        let c = SpoolConfig {
            max_bytes: 2000,
            segment_bytes: 600,
            max_entry_bytes: 100,
            sync: true,
        };
        let mut s = Spool::open(dir.path(), c).unwrap();
        let rec = [7u8; 100];
        let mut stored = 0;
        let err = loop {
            match s.append(&rec) {
                Ok(_) => stored += 1,
                Err(e) => break e,
            }
        };
        assert!(matches!(err, SpoolError::Full { limit: 2000, .. }), "{err}");
        assert!(s.used_bytes() <= 2000);
        assert_eq!(s.pending(), stored);
        assert!(matches!(
            s.append(&[0u8; 101]),
            Err(SpoolError::RecordTooLarge { len: 101, max: 100 })
        ));
        // Nothing was dropped; acknowledging makes room again.
        assert_eq!(all(&mut s).len(), stored);
        let first = all(&mut s)[..5].last().unwrap().seq;
        s.ack(first).unwrap();
        s.append(&rec).unwrap();
        drop(s);
        let s = Spool::open(dir.path(), c).unwrap();
        assert_eq!(s.pending(), stored - 5 + 1);
    }

    #[test]
    fn torn_tails_are_dropped_at_every_cut() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(1 << 20, 1 << 20);
        {
            let mut s = Spool::open(dir.path(), c).unwrap();
            for i in 1..=3 {
                s.append(&payload(i)).unwrap();
            }
        }
        let seg = segment_files(dir.path())[0].clone();
        let whole = std::fs::read(&seg).unwrap();
        let two = SEGMENT_HEADER_LEN as usize
            + (1..=2)
                .map(|i| ENTRY_HEADER_LEN as usize + payload(i).len())
                .sum::<usize>();
        for cut in two..whole.len() {
            std::fs::write(&seg, &whole[..cut]).unwrap();
            let mut s = Spool::open(dir.path(), c).unwrap();
            let got = all(&mut s);
            assert_eq!(got.len(), 2, "cut at {cut}");
            assert_eq!(s.recovery().torn_tail_bytes, (cut - two) as u64);
            assert_eq!(std::fs::metadata(&seg).unwrap().len(), two as u64);
            // Appending continues after the last whole entry.
            assert_eq!(s.append(b"next").unwrap(), 3);
            drop(s);
            let mut s = Spool::open(dir.path(), c).unwrap();
            let got = all(&mut s);
            assert_eq!(got.len(), 3);
            assert_eq!(got[2].payload, b"next");
            assert_eq!(
                s.recovery(),
                Recovery {
                    entries: 3,
                    ..Recovery::default()
                }
            );
        }
        // A torn segment creation (a prefix of the magic, or a damaged
        // short header) is restarted, and entries appended after it are
        // found again.
        for cut in 0..SEGMENT_HEADER_LEN as usize {
            for header in [&SEGMENT_MAGIC[..cut], &b"XXXXXXX"[..cut]] {
                std::fs::write(&seg, header).unwrap();
                let mut s = Spool::open(dir.path(), c).unwrap();
                assert!(all(&mut s).is_empty());
                assert_eq!(s.append(b"fresh").unwrap(), 1);
                drop(s);
                let mut s = Spool::open(dir.path(), c).unwrap();
                assert_eq!(all(&mut s)[0].payload, b"fresh", "cut {cut}");
            }
        }
    }

    #[test]
    fn flipped_bytes_are_never_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(1 << 20, 700);
        {
            let mut s = Spool::open(dir.path(), c).unwrap();
            for i in 1..=20 {
                s.append(&payload(i)).unwrap();
            }
        }
        let files = segment_files(dir.path());
        assert!(files.len() >= 3);
        let originals: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        let mut rng = 0x1234_5678_u64;
        for round in 0..200 {
            for (f, o) in files.iter().zip(&originals) {
                std::fs::write(f, o).unwrap();
            }
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let which = (rng % files.len() as u64) as usize;
            let mut data = originals[which].clone();
            let at = (rng >> 20) as usize % data.len();
            let bit = 1u8 << ((rng >> 40) % 8);
            data[at] ^= bit;
            std::fs::write(&files[which], &data).unwrap();
            let mut s = Spool::open(dir.path(), c).unwrap();
            let got = all(&mut s);
            let mut last = 0;
            for r in &got {
                assert!(r.seq > last, "round {round}: order");
                last = r.seq;
                assert_eq!(r.payload, payload(r.seq), "round {round}: seq {}", r.seq);
            }
            // At most the damaged entry is lost (or the torn tail of the
            // newest segment, when the flip is there).
            let lost = 20 - got.len();
            assert!(lost <= 1, "round {round}: lost {lost}");
            assert!(
                lost == 0 || s.recovery().corrupt_regions + s.recovery().torn_tail_bytes > 0,
                "round {round}: loss reported"
            );
        }
    }

    #[test]
    fn corruption_after_open_is_caught_when_read() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(1 << 20, 1 << 20);
        let mut s = Spool::open(dir.path(), c).unwrap();
        for i in 1..=3 {
            s.append(&payload(i)).unwrap();
        }
        let seg = segment_files(dir.path())[0].clone();
        let mut data = std::fs::read(&seg).unwrap();
        let second = SEGMENT_HEADER_LEN as usize + ENTRY_HEADER_LEN as usize + payload(1).len();
        data[second + ENTRY_HEADER_LEN as usize + 2] ^= 0x40;
        std::fs::write(&seg, &data).unwrap();
        let got = all(&mut s);
        assert_eq!(got.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(s.recovery().corrupt_regions, 1);
    }

    #[test]
    fn a_damaged_ack_cursor_redelivers_rather_than_loses() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(1 << 20, 600);
        {
            let mut s = Spool::open(dir.path(), c).unwrap();
            for i in 1..=20 {
                s.append(&payload(i)).unwrap();
            }
            s.ack(12).unwrap();
        }
        let ack = dir.path().join(ACK_FILE);
        let mut b = std::fs::read(&ack).unwrap();
        b[9] ^= 1;
        std::fs::write(&ack, &b).unwrap();
        let mut s = Spool::open(dir.path(), c).unwrap();
        assert!(s.recovery().ack_cursor_lost);
        let got = all(&mut s);
        assert!(got.len() >= 8, "nothing unacknowledged is lost");
        assert_eq!(got.last().unwrap().seq, 20);
        assert!(got[0].seq <= 13);
        // A leftover ack.tmp from a crash mid-acknowledgement is ignored.
        std::fs::write(dir.path().join(ACK_TMP), b"junk").unwrap();
        drop(s);
        let s = Spool::open(dir.path(), c).unwrap();
        assert!(!s.recovery().ack_cursor_lost);
    }

    #[test]
    fn a_second_writer_is_locked_out() {
        let dir = tempfile::tempdir().unwrap();
        let s = Spool::open(dir.path(), SpoolConfig::default()).unwrap();
        assert!(matches!(
            Spool::open(dir.path(), SpoolConfig::default()),
            Err(SpoolError::Locked(_))
        ));
        drop(s);
        Spool::open(dir.path(), SpoolConfig::default()).unwrap();
    }

    #[test]
    fn invalid_configurations_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            SpoolConfig {
                max_bytes: 10,
                ..SpoolConfig::default()
            },
            SpoolConfig {
                max_entry_bytes: 0,
                ..SpoolConfig::default()
            },
            SpoolConfig {
                segment_bytes: 1,
                ..SpoolConfig::default()
            },
        ] {
            assert!(matches!(
                Spool::open(dir.path(), bad),
                Err(SpoolError::InvalidConfig(_))
            ));
        }
        let small = SpoolConfig::with_max_bytes(1000);
        assert!(small.validate().is_ok(), "{small:?}");
    }
}
