//! The C interface of the device SDK (`include/depin_device.h`, generated
//! by cbindgen from this file).
//!
//! - Keys: [`depin_device_new`] from 32 secret bytes, [`depin_device_free`]
//!   (zeroizes), [`depin_device_public_key`], [`depin_device_id`],
//!   [`depin_public_key`], [`depin_sign`], [`depin_verify`].
//! - Uptime: [`depin_uptime_chain_init`], [`depin_heartbeat_sign`] (answers
//!   the slot's challenge, chains the heartbeat, signs the head and advances
//!   the caller's [`DepinChain`]), [`depin_heartbeat_encode`] (the SDK's
//!   wire encoding), and the primitives [`depin_challenge`],
//!   [`depin_heartbeat_message`], [`depin_chain_step`].
//! - Proving: [`depin_prove_request_sign`] signs the device's request for
//!   the proof of its epoch (`ProveEpochRequest.device_signature`), which a
//!   prover needs while the epoch still takes records.
//! - Spool: [`depin_spool_open`], [`depin_spool_append`],
//!   [`depin_spool_append_heartbeat`], [`depin_spool_pending`],
//!   [`depin_spool_ack`], [`depin_spool_close`].
//! - Errors: every function returns a [`DepinStatus`];
//!   [`depin_status_message`] describes one.
//!
//! Field elements are 32 bytes little-endian and must be canonical (below
//! the BN254 scalar modulus); non-canonical input is
//! `DEPIN_STATUS_INVALID_ARGUMENT`, a null pointer
//! `DEPIN_STATUS_NULL_POINTER`. No function unwinds into C: each body runs
//! under `catch_unwind` and a panic becomes `DEPIN_STATUS_PANIC`. Outputs
//! are written only on success.
#![allow(unsafe_code)]

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use ark_ff::BigInt;
use depin_device_sdk::chain::{ChainKind, ChainState, HeartbeatChain, SignedHeartbeat};
use depin_device_sdk::crypto::babyjubjub::Point;
use depin_device_sdk::crypto::eddsa::{PrivateKey, PublicKey, Signature};
use depin_device_sdk::crypto::field::{fr_from_le_bytes, fr_to_le_bytes};
use depin_device_sdk::crypto::Fr;
use depin_device_sdk::records::{chain_step, challenge, Heartbeat};
use depin_device_sdk::signer::{Device, RecordError};
use depin_device_sdk::spool::{Spool, SpoolConfig, SpoolError};
use depin_device_sdk::wire::{RecordKind, SignedRecord};

/// The longest record the SDK's wire encoding produces, in bytes.
pub const DEPIN_MAX_RECORD_LEN: usize = 374;
/// An encoded heartbeat record, in bytes.
pub const DEPIN_HEARTBEAT_RECORD_LEN: usize = 206;
/// The chain kind of an uptime chain (`DepinChain::kind`).
pub const DEPIN_CHAIN_UPTIME: u8 = 1;

const _: () = assert!(DEPIN_MAX_RECORD_LEN == depin_device_sdk::wire::MAX_RECORD_LEN);
const _: () = assert!(DEPIN_HEARTBEAT_RECORD_LEN == RecordKind::Heartbeat.encoded_len());
const _: () = assert!(DEPIN_CHAIN_UPTIME == ChainKind::Uptime as u8);

/// What a call did. `DEPIN_STATUS_OK` is 0; the other values are stable.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepinStatus {
    /// Success.
    Ok = 0,
    /// A required pointer was null.
    NullPointer = 1,
    /// An argument is malformed: a non-canonical field element, a chain of
    /// an unknown kind, a path that is not UTF-8.
    InvalidArgument = 2,
    /// The output buffer is too small.
    BufferTooSmall = 3,
    /// The heartbeat's slot does not come after the chain's last slot.
    SlotNotIncreasing = 4,
    /// The chain holds as many records as one proof can take.
    ChainFull = 5,
    /// The chain or record belongs to another device.
    WrongDevice = 6,
    /// The record was refused for another reason (see the SDK's
    /// `RecordError`).
    RecordRefused = 7,
    /// The spool is full; nothing was written (acknowledge records first).
    SpoolFull = 8,
    /// Another process has the spool open.
    SpoolLocked = 9,
    /// The record is larger than the spool accepts.
    RecordTooLarge = 10,
    /// A file operation failed.
    Io = 11,
    /// Another spool error (an acknowledgement past the end, an earlier
    /// unrecoverable write failure: reopen the spool).
    SpoolError = 12,
    /// The signature does not verify.
    InvalidSignature = 13,
    /// An internal error (a panic, caught before it reached C).
    Panic = 14,
}

/// An EdDSA-Poseidon signature: `R8` in circomlib's coordinates and `S`,
/// each 32 bytes little-endian.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepinSignature {
    /// `R8.x`.
    pub r8_x: [u8; 32],
    /// `R8.y`.
    pub r8_y: [u8; 32],
    /// `S` (below the subgroup order in a valid signature).
    pub s: [u8; 32],
}

/// A device's hash chain for one epoch: plain data the firmware keeps (in
/// RAM or flash) between heartbeats.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepinChain {
    /// `DEPIN_CHAIN_UPTIME`.
    pub kind: u8,
    /// The device id.
    pub device_id: [u8; 32],
    /// The epoch.
    pub epoch: u32,
    /// The current head (the genesis while empty).
    pub head: [u8; 32],
    /// Records appended.
    pub len: u32,
    /// The smallest admissible next slot.
    pub next: u32,
}

/// A signed heartbeat: the heartbeat, the chain head after it and the
/// device's signature on that head.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepinHeartbeat {
    /// The device id.
    pub device_id: [u8; 32],
    /// The epoch.
    pub epoch: u32,
    /// The slot.
    pub slot: u32,
    /// The response to the slot's challenge.
    pub response: [u8; 32],
    /// The measured latency in milliseconds.
    pub latency_ms: u32,
    /// The chain head after this heartbeat.
    pub head: [u8; 32],
    /// The device's signature on `head`.
    pub signature: DepinSignature,
}

/// A device key (opaque). Create with [`depin_device_new`], free with
/// [`depin_device_free`].
#[derive(Debug)]
pub struct DepinDevice {
    inner: Device,
}

/// An open spool (opaque). Open with [`depin_spool_open`], close with
/// [`depin_spool_close`].
#[derive(Debug)]
pub struct DepinSpool {
    inner: Spool,
}

type Result<T> = std::result::Result<T, DepinStatus>;

fn guard(f: impl FnOnce() -> Result<()>) -> DepinStatus {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => DepinStatus::Ok,
        Ok(Err(s)) => s,
        Err(_) => DepinStatus::Panic,
    }
}

/// Reads 32 bytes.
///
/// # Safety
/// `p` is null or valid for 32 bytes of reads.
unsafe fn read32(p: *const u8) -> Result<[u8; 32]> {
    if p.is_null() {
        return Err(DepinStatus::NullPointer);
    }
    let mut out = [0u8; 32];
    // SAFETY: the caller's contract.
    unsafe { std::ptr::copy_nonoverlapping(p, out.as_mut_ptr(), 32) };
    Ok(out)
}

/// Reads a canonical field element.
///
/// # Safety
/// As [`read32`].
unsafe fn read_fr(p: *const u8) -> Result<Fr> {
    // SAFETY: the caller's contract.
    let b = unsafe { read32(p) }?;
    fr_from_le_bytes(&b).map_err(|_| DepinStatus::InvalidArgument)
}

/// A checked output pointer.
fn out_ptr<T>(p: *mut T) -> Result<*mut T> {
    if p.is_null() {
        Err(DepinStatus::NullPointer)
    } else {
        Ok(p)
    }
}

/// Writes 32 bytes.
///
/// # Safety
/// `p` is valid for 32 bytes of writes (checked non-null by the caller).
unsafe fn write32(p: *mut u8, v: &[u8; 32]) {
    // SAFETY: the caller's contract.
    unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), p, 32) };
}

fn signature_to_c(s: &Signature) -> DepinSignature {
    let mut sb = [0u8; 32];
    for (chunk, limb) in sb.chunks_exact_mut(8).zip(s.s.0) {
        chunk.copy_from_slice(&limb.to_le_bytes());
    }
    DepinSignature {
        r8_x: fr_to_le_bytes(&s.r8.x),
        r8_y: fr_to_le_bytes(&s.r8.y),
        s: sb,
    }
}

fn signature_from_c(s: &DepinSignature) -> Result<Signature> {
    let fr = |b: &[u8; 32]| fr_from_le_bytes(b).map_err(|_| DepinStatus::InvalidArgument);
    let r8 = Point::new(fr(&s.r8_x)?, fr(&s.r8_y)?).map_err(|_| DepinStatus::InvalidSignature)?;
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().zip(s.s.chunks_exact(8)) {
        let mut a = [0u8; 8];
        a.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(a);
    }
    Ok(Signature {
        r8,
        s: BigInt::new(limbs),
    })
}

fn chain_from_c(c: &DepinChain) -> Result<ChainState> {
    let kind = ChainKind::from_u8(c.kind).ok_or(DepinStatus::InvalidArgument)?;
    let fr = |b: &[u8; 32]| fr_from_le_bytes(b).map_err(|_| DepinStatus::InvalidArgument);
    Ok(ChainState {
        kind,
        device_id: fr(&c.device_id)?,
        epoch: c.epoch,
        head: fr(&c.head)?,
        len: c.len,
        next: c.next,
    })
}

fn chain_to_c(s: &ChainState) -> DepinChain {
    DepinChain {
        kind: s.kind as u8,
        device_id: fr_to_le_bytes(&s.device_id),
        epoch: s.epoch,
        head: fr_to_le_bytes(&s.head),
        len: s.len,
        next: s.next,
    }
}

fn heartbeat_to_c(h: &SignedHeartbeat) -> DepinHeartbeat {
    DepinHeartbeat {
        device_id: fr_to_le_bytes(&h.device_id),
        epoch: h.epoch,
        slot: h.heartbeat.slot,
        response: fr_to_le_bytes(&h.heartbeat.response),
        latency_ms: h.heartbeat.latency_ms,
        head: fr_to_le_bytes(&h.head),
        signature: signature_to_c(&h.signature),
    }
}

fn heartbeat_from_c(h: &DepinHeartbeat) -> Result<SignedHeartbeat> {
    let fr = |b: &[u8; 32]| fr_from_le_bytes(b).map_err(|_| DepinStatus::InvalidArgument);
    Ok(SignedHeartbeat {
        device_id: fr(&h.device_id)?,
        epoch: h.epoch,
        heartbeat: Heartbeat {
            slot: h.slot,
            response: fr(&h.response)?,
            latency_ms: h.latency_ms,
        },
        head: fr(&h.head)?,
        signature: signature_from_c(&h.signature).map_err(|s| match s {
            DepinStatus::InvalidSignature => DepinStatus::InvalidArgument,
            other => other,
        })?,
    })
}

fn record_status(e: RecordError) -> DepinStatus {
    match e {
        RecordError::SlotNotIncreasing { .. } => DepinStatus::SlotNotIncreasing,
        RecordError::ChainFull { .. } => DepinStatus::ChainFull,
        RecordError::WrongDevice => DepinStatus::WrongDevice,
        RecordError::WrongChainKind => DepinStatus::InvalidArgument,
        _ => DepinStatus::RecordRefused,
    }
}

fn spool_status(e: &SpoolError) -> DepinStatus {
    match e {
        SpoolError::Full { .. } => DepinStatus::SpoolFull,
        SpoolError::Locked(_) => DepinStatus::SpoolLocked,
        SpoolError::RecordTooLarge { .. } => DepinStatus::RecordTooLarge,
        SpoolError::Io { .. } => DepinStatus::Io,
        SpoolError::InvalidConfig(_) => DepinStatus::InvalidArgument,
        _ => DepinStatus::SpoolError,
    }
}

/// Creates a device key from 32 secret bytes (circomlibjs's private key
/// bytes; draw them from a hardware RNG). Free it with
/// [`depin_device_free`]; the caller should wipe its copy of the secret.
///
/// # Safety
/// `secret` points to 32 readable bytes; `out` to a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn depin_device_new(
    secret: *const u8,
    out: *mut *mut DepinDevice,
) -> DepinStatus {
    guard(|| {
        let out = out_ptr(out)?;
        // SAFETY: the caller's contract.
        let mut bytes = unsafe { read32(secret) }?;
        let device = Box::new(DepinDevice {
            inner: Device::from_secret(bytes),
        });
        bytes.fill(0);
        std::hint::black_box(&bytes);
        // SAFETY: checked non-null; the caller's contract.
        unsafe { *out = Box::into_raw(device) };
        Ok(())
    })
}

/// Frees (and zeroizes) a device key. Null is ignored.
///
/// # Safety
/// `device` is null or was returned by [`depin_device_new`] and not freed.
#[no_mangle]
pub unsafe extern "C" fn depin_device_free(device: *mut DepinDevice) {
    let _ = guard(|| {
        if !device.is_null() {
            // SAFETY: the caller's contract; the key zeroizes on drop.
            drop(unsafe { Box::from_raw(device) });
        }
        Ok(())
    });
}

/// # Safety
/// `device` is null or a live device.
unsafe fn device_ref<'a>(device: *const DepinDevice) -> Result<&'a Device> {
    // SAFETY: the caller's contract.
    unsafe { device.as_ref() }
        .map(|d| &d.inner)
        .ok_or(DepinStatus::NullPointer)
}

/// Writes the device's public key (`A.x`, `A.y`, 32 bytes each).
///
/// # Safety
/// `device` is a live device; `x` and `y` point to 32 writable bytes each.
#[no_mangle]
pub unsafe extern "C" fn depin_device_public_key(
    device: *const DepinDevice,
    x: *mut u8,
    y: *mut u8,
) -> DepinStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let d = unsafe { device_ref(device) }?;
        let (x, y) = (out_ptr(x)?, out_ptr(y)?);
        let pk = d.public_key();
        // SAFETY: checked non-null; the caller's contract.
        unsafe {
            write32(x, &fr_to_le_bytes(&pk.0.x));
            write32(y, &fr_to_le_bytes(&pk.0.y));
        }
        Ok(())
    })
}

/// Writes the device id, `Poseidon(A.x, A.y)` (32 bytes).
///
/// # Safety
/// `device` is a live device; `out` points to 32 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn depin_device_id(device: *const DepinDevice, out: *mut u8) -> DepinStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let d = unsafe { device_ref(device) }?;
        let out = out_ptr(out)?;
        // SAFETY: checked non-null; the caller's contract.
        unsafe { write32(out, &fr_to_le_bytes(&d.id())) };
        Ok(())
    })
}

/// The public key of 32 secret bytes, without creating a device.
///
/// # Safety
/// `secret` points to 32 readable bytes; `x` and `y` to 32 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn depin_public_key(
    secret: *const u8,
    x: *mut u8,
    y: *mut u8,
) -> DepinStatus {
    guard(|| {
        let (x, y) = (out_ptr(x)?, out_ptr(y)?);
        // SAFETY: the caller's contract.
        let mut bytes = unsafe { read32(secret) }?;
        let pk = PrivateKey::from_bytes(bytes).public_key();
        bytes.fill(0);
        std::hint::black_box(&bytes);
        // SAFETY: checked non-null; the caller's contract.
        unsafe {
            write32(x, &fr_to_le_bytes(&pk.0.x));
            write32(y, &fr_to_le_bytes(&pk.0.y));
        }
        Ok(())
    })
}

/// Signs a field element (EdDSA-Poseidon, circomlibjs's `signPoseidon`).
///
/// # Safety
/// `device` is a live device; `message` points to 32 readable bytes; `out`
/// to a writable signature.
#[no_mangle]
pub unsafe extern "C" fn depin_sign(
    device: *const DepinDevice,
    message: *const u8,
    out: *mut DepinSignature,
) -> DepinStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let d = unsafe { device_ref(device) }?;
        // SAFETY: the caller's contract.
        let m = unsafe { read_fr(message) }?;
        let out = out_ptr(out)?;
        // SAFETY: checked non-null; the caller's contract.
        unsafe { out.write(signature_to_c(&d.sign(&m))) };
        Ok(())
    })
}

/// Verifies a signature on a field element: `DEPIN_STATUS_OK` when valid,
/// `DEPIN_STATUS_INVALID_SIGNATURE` when not (including a key off the
/// curve or of small order).
///
/// # Safety
/// `x`, `y` and `message` point to 32 readable bytes each; `signature` to
/// a readable signature.
#[no_mangle]
pub unsafe extern "C" fn depin_verify(
    x: *const u8,
    y: *const u8,
    message: *const u8,
    signature: *const DepinSignature,
) -> DepinStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let (x, y, m) = unsafe { (read_fr(x)?, read_fr(y)?, read_fr(message)?) };
        // SAFETY: the caller's contract.
        let sig = unsafe { signature.as_ref() }.ok_or(DepinStatus::NullPointer)?;
        let sig = signature_from_c(sig)?;
        let key = PublicKey::new(x, y).map_err(|_| DepinStatus::InvalidSignature)?;
        key.verify(&m, &sig)
            .map_err(|_| DepinStatus::InvalidSignature)
    })
}

/// Signs the device's request for the proof of its `kind` records of
/// `epoch` (`kind`: 1 uptime, 2 bandwidth, 3 coverage), whose published
/// beacon is `beacon`: the signature on
/// `Poseidon(PROVE_REQUEST, device_id, kind, epoch, beacon)` that goes in
/// `ProveEpochRequest.device_signature`. Valid for that device, statement
/// and epoch only. An unknown kind is `DEPIN_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `device` is a live device; `beacon` points to 32 readable bytes; `out`
/// to a writable signature.
#[no_mangle]
pub unsafe extern "C" fn depin_prove_request_sign(
    device: *const DepinDevice,
    kind: u8,
    epoch: u32,
    beacon: *const u8,
    out: *mut DepinSignature,
) -> DepinStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let d = unsafe { device_ref(device) }?;
        // SAFETY: the caller's contract.
        let b = unsafe { read_fr(beacon) }?;
        let kind = depin_device_sdk::StatementKind::try_from(kind)
            .map_err(|_| DepinStatus::InvalidArgument)?;
        let out = out_ptr(out)?;
        let sig = d.sign_prove_request(kind, epoch, b);
        // SAFETY: checked non-null; the caller's contract.
        unsafe { out.write(signature_to_c(&sig)) };
        Ok(())
    })
}

/// The challenge of a slot: `Poseidon(CHALLENGE, beacon, device_id, slot)`.
///
/// # Safety
/// `beacon` and `device_id` point to 32 readable bytes; `out` to 32
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn depin_challenge(
    beacon: *const u8,
    device_id: *const u8,
    slot: u32,
    out: *mut u8,
) -> DepinStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let (b, d) = unsafe { (read_fr(beacon)?, read_fr(device_id)?) };
        let out = out_ptr(out)?;
        // SAFETY: checked non-null; the caller's contract.
        unsafe { write32(out, &fr_to_le_bytes(&challenge(b, d, slot))) };
        Ok(())
    })
}

/// A heartbeat's message: `Poseidon(HEARTBEAT, slot, response, latency_ms)`.
///
/// # Safety
/// `response` points to 32 readable bytes; `out` to 32 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn depin_heartbeat_message(
    slot: u32,
    response: *const u8,
    latency_ms: u32,
    out: *mut u8,
) -> DepinStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let response = unsafe { read_fr(response) }?;
        let out = out_ptr(out)?;
        let m = Heartbeat {
            slot,
            response,
            latency_ms,
        }
        .message();
        // SAFETY: checked non-null; the caller's contract.
        unsafe { write32(out, &fr_to_le_bytes(&m)) };
        Ok(())
    })
}

/// One chain step: `out = Poseidon(prev, message)`.
///
/// # Safety
/// `prev` and `message` point to 32 readable bytes; `out` to 32 writable
/// bytes (it may alias `prev`).
#[no_mangle]
pub unsafe extern "C" fn depin_chain_step(
    prev: *const u8,
    message: *const u8,
    out: *mut u8,
) -> DepinStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let (p, m) = unsafe { (read_fr(prev)?, read_fr(message)?) };
        let out = out_ptr(out)?;
        // SAFETY: checked non-null; the caller's contract.
        unsafe { write32(out, &fr_to_le_bytes(&chain_step(p, m))) };
        Ok(())
    })
}

/// Starts a device's uptime chain for `epoch` (at its genesis).
///
/// # Safety
/// `device_id` points to 32 readable bytes; `out` to a writable chain.
#[no_mangle]
pub unsafe extern "C" fn depin_uptime_chain_init(
    device_id: *const u8,
    epoch: u32,
    out: *mut DepinChain,
) -> DepinStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let id = unsafe { read_fr(device_id) }?;
        let out = out_ptr(out)?;
        let state = HeartbeatChain::new(id, epoch).state();
        // SAFETY: checked non-null; the caller's contract.
        unsafe { out.write(chain_to_c(&state)) };
        Ok(())
    })
}

/// Answers `slot`'s challenge under `beacon`, appends the heartbeat to
/// `chain`, signs the new head and writes the signed heartbeat to `out`.
/// On success `chain` is advanced; on any error neither is changed
/// (`DEPIN_STATUS_SLOT_NOT_INCREASING`, `DEPIN_STATUS_CHAIN_FULL`,
/// `DEPIN_STATUS_WRONG_DEVICE`, ...).
///
/// # Safety
/// `device` is a live device; `chain` points to a readable and writable
/// chain; `beacon` to 32 readable bytes; `out` to a writable heartbeat.
#[no_mangle]
pub unsafe extern "C" fn depin_heartbeat_sign(
    device: *const DepinDevice,
    chain: *mut DepinChain,
    beacon: *const u8,
    slot: u32,
    latency_ms: u32,
    out: *mut DepinHeartbeat,
) -> DepinStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let d = unsafe { device_ref(device) }?;
        let chain = out_ptr(chain)?;
        // SAFETY: the caller's contract.
        let beacon = unsafe { read_fr(beacon) }?;
        let out = out_ptr(out)?;
        // SAFETY: checked non-null; the caller's contract.
        let state = chain_from_c(unsafe { &*chain })?;
        let mut c = HeartbeatChain::resume(state).map_err(record_status)?;
        let hb = c
            .heartbeat(d, beacon, slot, latency_ms)
            .map_err(record_status)?;
        // SAFETY: checked non-null; the caller's contract.
        unsafe {
            out.write(heartbeat_to_c(&hb));
            chain.write(chain_to_c(&c.state()));
        }
        Ok(())
    })
}

/// Encodes a signed heartbeat in the SDK's wire format
/// (`DEPIN_HEARTBEAT_RECORD_LEN` bytes) into `buf` of `capacity` bytes and
/// writes the length to `written`.
///
/// # Safety
/// `heartbeat` points to a readable heartbeat; `buf` to `capacity`
/// writable bytes; `written` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn depin_heartbeat_encode(
    heartbeat: *const DepinHeartbeat,
    buf: *mut u8,
    capacity: usize,
    written: *mut usize,
) -> DepinStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let hb = unsafe { heartbeat.as_ref() }.ok_or(DepinStatus::NullPointer)?;
        let (buf, written) = (out_ptr(buf)?, out_ptr(written)?);
        let rec = SignedRecord::Heartbeat(heartbeat_from_c(hb)?);
        let n = rec.encoded_len();
        if capacity < n {
            return Err(DepinStatus::BufferTooSmall);
        }
        // SAFETY: checked non-null; `capacity >= n` writable bytes by the
        // caller's contract.
        let out = unsafe { std::slice::from_raw_parts_mut(buf, n) };
        rec.encode(out).map_err(|_| DepinStatus::BufferTooSmall)?;
        // SAFETY: checked non-null; the caller's contract.
        unsafe { written.write(n) };
        Ok(())
    })
}

/// Opens (creating if needed) the spool in directory `dir`, bounded to
/// `max_bytes` (0 for the default, 64 MiB), recovering it after a crash.
///
/// # Safety
/// `dir` is a NUL-terminated string; `out` points to a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn depin_spool_open(
    dir: *const c_char,
    max_bytes: u64,
    out: *mut *mut DepinSpool,
) -> DepinStatus {
    guard(|| {
        if dir.is_null() {
            return Err(DepinStatus::NullPointer);
        }
        let out = out_ptr(out)?;
        // SAFETY: the caller's contract.
        let dir = unsafe { CStr::from_ptr(dir) }
            .to_str()
            .map_err(|_| DepinStatus::InvalidArgument)?;
        let cfg = match max_bytes {
            0 => SpoolConfig::default(),
            n => SpoolConfig::with_max_bytes(n),
        };
        let spool = Spool::open(dir, cfg).map_err(|e| spool_status(&e))?;
        // SAFETY: checked non-null; the caller's contract.
        unsafe { *out = Box::into_raw(Box::new(DepinSpool { inner: spool })) };
        Ok(())
    })
}

/// # Safety
/// `spool` is null or a live spool not used elsewhere during the call.
unsafe fn spool_mut<'a>(spool: *mut DepinSpool) -> Result<&'a mut Spool> {
    // SAFETY: the caller's contract.
    unsafe { spool.as_mut() }
        .map(|s| &mut s.inner)
        .ok_or(DepinStatus::NullPointer)
}

/// Appends `len` bytes as one record; once it returns `DEPIN_STATUS_OK`
/// the record is on disk and its sequence number is in `seq` (which may be
/// null). `DEPIN_STATUS_SPOOL_FULL` writes nothing.
///
/// # Safety
/// `spool` is a live spool; `data` points to `len` readable bytes; `seq`
/// is null or writable.
#[no_mangle]
pub unsafe extern "C" fn depin_spool_append(
    spool: *mut DepinSpool,
    data: *const u8,
    len: usize,
    seq: *mut u64,
) -> DepinStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let s = unsafe { spool_mut(spool) }?;
        if data.is_null() {
            return Err(DepinStatus::NullPointer);
        }
        if len > s.config().max_entry_bytes as usize {
            return Err(DepinStatus::RecordTooLarge);
        }
        // SAFETY: non-null, `len` readable bytes by the caller's contract.
        let bytes = unsafe { std::slice::from_raw_parts(data, len) };
        let n = s.append(bytes).map_err(|e| spool_status(&e))?;
        if !seq.is_null() {
            // SAFETY: non-null; the caller's contract.
            unsafe { seq.write(n) };
        }
        Ok(())
    })
}

/// Encodes a signed heartbeat and appends it (see [`depin_spool_append`]).
///
/// # Safety
/// `spool` is a live spool; `heartbeat` a readable heartbeat; `seq` null
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn depin_spool_append_heartbeat(
    spool: *mut DepinSpool,
    heartbeat: *const DepinHeartbeat,
    seq: *mut u64,
) -> DepinStatus {
    let mut buf = [0u8; DEPIN_MAX_RECORD_LEN];
    let mut n = 0usize;
    // SAFETY: the caller's contract; `buf` and `n` are local.
    let st = unsafe { depin_heartbeat_encode(heartbeat, buf.as_mut_ptr(), buf.len(), &mut n) };
    if st != DepinStatus::Ok {
        return st;
    }
    // SAFETY: the caller's contract; `buf` holds `n` bytes.
    unsafe { depin_spool_append(spool, buf.as_ptr(), n, seq) }
}

/// Writes the number of records stored and not yet acknowledged.
///
/// # Safety
/// `spool` is a live spool; `count` is writable.
#[no_mangle]
pub unsafe extern "C" fn depin_spool_pending(
    spool: *const DepinSpool,
    count: *mut u64,
) -> DepinStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let s = unsafe { spool.as_ref() }.ok_or(DepinStatus::NullPointer)?;
        let count = out_ptr(count)?;
        // SAFETY: checked non-null; the caller's contract.
        unsafe { count.write(s.inner.pending() as u64) };
        Ok(())
    })
}

/// Acknowledges every record up to sequence number `upto` (the prover has
/// them): they are never delivered again.
///
/// # Safety
/// `spool` is a live spool.
#[no_mangle]
pub unsafe extern "C" fn depin_spool_ack(spool: *mut DepinSpool, upto: u64) -> DepinStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let s = unsafe { spool_mut(spool) }?;
        s.ack(upto).map_err(|e| spool_status(&e))
    })
}

/// Closes a spool (releasing its lock). Null is ignored.
///
/// # Safety
/// `spool` is null or was returned by [`depin_spool_open`] and not closed.
#[no_mangle]
pub unsafe extern "C" fn depin_spool_close(spool: *mut DepinSpool) {
    let _ = guard(|| {
        if !spool.is_null() {
            // SAFETY: the caller's contract.
            drop(unsafe { Box::from_raw(spool) });
        }
        Ok(())
    });
}

/// A static, NUL-terminated description of a status value (any integer;
/// unknown values get "unknown status").
#[no_mangle]
pub extern "C" fn depin_status_message(status: i32) -> *const c_char {
    let s: &'static CStr = match status {
        0 => c"ok",
        1 => c"a required pointer is null",
        2 => {
            c"invalid argument (non-canonical field element, unknown chain kind or non-UTF-8 path)"
        }
        3 => c"output buffer too small",
        4 => c"slot does not increase",
        5 => c"chain is full for this epoch",
        6 => c"record or chain belongs to another device",
        7 => c"record refused",
        8 => c"spool is full; nothing was written",
        9 => c"spool is in use by another process",
        10 => c"record too large for the spool",
        11 => c"file operation failed",
        12 => c"spool error (acknowledgement past the end, or reopen after a failed write)",
        13 => c"signature does not verify",
        14 => c"internal error (panic caught)",
        _ => c"unknown status",
    };
    s.as_ptr()
}
