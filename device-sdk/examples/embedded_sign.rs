//! A firmware image that signs one uptime heartbeat: the smallest program
//! that uses the device SDK's signing path, to measure its code size and to
//! prove at link time that signing never allocates.
//!
//! For a bare-metal target (`target_os = "none"`) it is `#![no_std]`,
//! `#![no_main]`: the entry point `_start` builds a device key, answers a
//! slot's challenge, chains the heartbeat, signs the head and encodes the
//! record. It has no heap: its global allocator fails every request (the
//! signing path makes none; `tests/no_alloc.rs` counts them). The one
//! allocation the linker still sees is `ark_std::io::Error::new` in the
//! short-buffer branch of `read_exact`, reached from ark-ff's
//! `from_le_bytes_mod_order` inside EdDSA signing, which reads a buffer it
//! has just sized and so never takes that branch.
//!
//! ```text
//! CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_OPT_LEVEL=s \
//!   cargo build -p depin-device-sdk --no-default-features --release \
//!   --target thumbv7em-none-eabihf --example embedded_sign
//! llvm-size target/thumbv7em-none-eabihf/release/examples/embedded_sign
//! ```
//!
//! On a hosted target it runs the same code and prints the record.
#![cfg_attr(target_os = "none", no_std, no_main)]

use depin_device_sdk::chain::HeartbeatChain;
use depin_device_sdk::crypto::Fr;
use depin_device_sdk::signer::Device;
use depin_device_sdk::wire::{SignedRecord, MAX_RECORD_LEN};

/// Signs one heartbeat and encodes it into `out`; returns its length (0 if
/// the chain refused it, which it cannot for slot 0 of a new chain).
fn sign_heartbeat(secret: [u8; 32], beacon: Fr, out: &mut [u8; MAX_RECORD_LEN]) -> usize {
    let device = Device::from_secret(secret);
    let mut chain = HeartbeatChain::new(device.id(), 1);
    match chain.heartbeat(&device, beacon, 0, 20) {
        Ok(hb) => SignedRecord::from(hb).encode(out).unwrap_or(0),
        Err(_) => 0,
    }
}

#[cfg(target_os = "none")]
#[allow(unsafe_code)]
mod firmware {
    use core::alloc::{GlobalAlloc, Layout};
    use core::hint::black_box;

    struct NoHeap;

    // SAFETY: returning null is how an allocator reports failure.
    unsafe impl GlobalAlloc for NoHeap {
        unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
            core::ptr::null_mut()
        }
        unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
    }

    #[global_allocator]
    static HEAP: NoHeap = NoHeap;

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        loop {
            core::hint::spin_loop();
        }
    }

    /// The entry point.
    #[no_mangle]
    pub extern "C" fn _start() -> ! {
        let secret = black_box([7u8; 32]);
        let beacon = black_box(super::Fr::from(123_456u64));
        let mut out = [0u8; super::MAX_RECORD_LEN];
        let n = super::sign_heartbeat(secret, beacon, &mut out);
        black_box((n, &out));
        loop {
            core::hint::spin_loop();
        }
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    let mut out = [0u8; MAX_RECORD_LEN];
    let n = sign_heartbeat([7u8; 32], Fr::from(123_456u64), &mut out);
    let hex: String = out[..n].iter().map(|b| format!("{b:02x}")).collect();
    println!("{n} bytes: {hex}");
}
