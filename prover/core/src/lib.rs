//! The proving hot core: multi-scalar multiplication, FFT and a Groth16
//! prover over BN254.
//!
//! Compute only (no I/O, no async). Everything here is checked against a
//! naive public reference ([`msm::naive_msm_g1`], [`fft::naive_dft`], ...)
//! in this crate's tests, and against arkworks in the benchmarks.
//!
//! * [`msm`]: variable-base MSM on G1 and G2 ([`msm::msm_g1`],
//!   [`msm::msm_g2`]) with signed (Booth) window digits and batch-affine
//!   bucket accumulation (Montgomery batch inversion), and a fixed-base MSM
//!   ([`msm::FixedBaseMsm`]) with precomputed window tables for bases used
//!   many times, such as a proving key's.
//! * [`fft`]: [`fft::Domain`], forward, inverse and coset FFTs over
//!   `ark_bn254::Fr` for sizes 2^1 to 2^24 with precomputed twiddles and
//!   cache-blocked passes.
//! * [`groth16`]: a Groth16 prover for any R1CS on the two: the circuit's
//!   matrices built once ([`groth16::R1cs`], [`groth16::CircuitProver`]),
//!   the assignment from prove-mode synthesis without matrices, the QAP
//!   witness map on [`fft::Domain`] and the proof's MSMs; a proving key
//!   read in place from packed bytes such as a memory-mapped file
//!   ([`groth16::ProvingKeyRef`]), arkworks' proof type, and the same
//!   proofs as arkworks' prover.
//!
//! On x86-64 CPUs with AVX-512 IFMA (this project's Zen 4 machines) the G1
//! MSM's pairwise additions and the FFT's butterflies run eight at a time on
//! 52-bit-limb Montgomery arithmetic (`vpmadd52{lo,hi}uq`, about 5.5 ns per
//! field product against about 19.5 ns for arkworks' scalar one); the CPU is
//! checked at run time and every other machine runs the portable code, which
//! the same tests cover. The IFMA modules hold most of the crate's
//! `unsafe`: the calls into `#[target_feature]` functions after that check,
//! unaligned vector loads and stores of local arrays, and a cache prefetch.
//! The one other use views a packed proving key's aligned bytes as points
//! in place ([`groth16::ProvingKeyRef::from_packed`]), under compile-time
//! assertions that the packed layout is arkworks' in-memory one.
//!
//! Feature `parallel` (default on) is the one parallelism switch: it runs
//! windows, chunks and FFT blocks on rayon's pool. Without it the same code
//! runs on one thread and gives the same results. [`par`] holds its loops,
//! which the crates built on this one (the circom formats and ceremony)
//! use instead of rayon.

pub mod fft;
#[cfg(target_arch = "x86_64")]
mod fft_ifma;
pub mod groth16;
#[cfg(target_arch = "x86_64")]
mod ifma;
pub mod msm;
pub mod par;
