//! The signing path allocates nothing: every record kind is built, signed,
//! chained, encoded and decoded under a global allocator that counts the
//! allocations of the current thread, and the count must stay at zero.
//!
//! (The `no_std` build of the core for `thumbv7em-none-eabihf` has no
//! `alloc` in scope at all; `examples/embedded_sign.rs` additionally links
//! a signing firmware image whose allocator is an undefined symbol.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use depin_device_sdk::chain::{HeartbeatChain, ReceiptChain};
use depin_device_sdk::crypto::eddsa::PrivateKey;
use depin_device_sdk::crypto::Fr;
use depin_device_sdk::records::Location;
use depin_device_sdk::signer::{ClientSigner, Device, Observed};
use depin_device_sdk::wire::{SignedRecord, MAX_RECORD_LEN};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    // `try_with`: the thread-local may be gone while a thread exits.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: forwards to the system allocator unchanged.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn signing_every_record_kind_allocates_nothing() {
    // Keys are made before counting (as firmware does at boot).
    let device = Device::from_secret([0x11; 32]);
    let client = ClientSigner::new(PrivateKey::from_bytes([0x22; 32]));
    let witness = Device::from_secret([0x33; 32]);
    let beacon = Fr::from(123_456u64);
    let before = allocations();

    let mut uptime = HeartbeatChain::new(device.id(), 7);
    let mut bandwidth = ReceiptChain::new(device.id(), 7);
    let mut buf = [0u8; MAX_RECORD_LEN];
    let mut bytes_written = 0usize;
    for slot in 0..8u32 {
        let hb = uptime
            .heartbeat(&device, beacon, slot * 3, 20 + slot)
            .unwrap();
        let proposal = bandwidth.propose(client.id(), 1_000_000, 60);
        let observed = Observed {
            device_id: device.id(),
            epoch: 7,
            bytes: 1_000_000,
            duration_s: 60,
        };
        let co = client.co_sign(&proposal, &observed).unwrap();
        let receipt = bandwidth.append(&device, &co).unwrap();
        let claim = device
            .coverage_claim(7, beacon, Location { x: 1000, y: 2000 })
            .unwrap();
        let report = witness
            .witness_report(
                device.beacon_id(beacon),
                Location { x: 1500, y: 2000 },
                -70,
                7,
            )
            .unwrap();
        for rec in [
            SignedRecord::from(hb),
            receipt.into(),
            claim.into(),
            report.into(),
        ] {
            let n = rec.encode(&mut buf).unwrap();
            bytes_written += n;
            assert_eq!(SignedRecord::decode(&buf[..n]).unwrap(), rec);
        }
    }
    let after = allocations();
    assert_eq!(after - before, 0, "the signing path allocated");
    assert_eq!(uptime.state().len, 8);
    assert!(bytes_written > 0);

    // The counter does count: a heap allocation is seen.
    let v = std::hint::black_box(vec![1u8; 16]);
    assert!(allocations() > after);
    drop(v);
}
