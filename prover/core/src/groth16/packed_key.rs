//! A Groth16 proving key laid out to be proven from in place, and the
//! borrowed view the prover reads.
//!
//! [`ProvingKeyRef`] is what [`super::CircuitProver`] proves with: the
//! key's fixed points by value and its five queries as slices. It borrows
//! either an `ark_groth16::ProvingKey` (`From<&ProvingKey<Bn254>>`) or the
//! bytes of a **packed** key ([`ProvingKeyRef::from_packed`]): the points
//! stored exactly as arkworks holds them in memory, so a key file mapped
//! into memory is proven from without parsing, converting or copying; the
//! operating system pages it in on first use and shares it between
//! processes.
//!
//! # Packed layout
//!
//! 64-bit little-endian words. A base-field element is its four Montgomery
//! limbs, least significant first (arkworks' `Fp` in memory); a G1 point is
//! `x, y` (8 words), a G2 point `x.c0, x.c1, y.c0, y.c1` (16 words); the
//! point at infinity is all zeros (arkworks' BN254 affine points have no
//! infinity flag).
//!
//! | words | contents |
//! | --- | --- |
//! | 0 | [`PACKED_MAGIC`] |
//! | 1..7 | the lengths of `gamma_abc_g1`, `a_query`, `b_g1_query`, `b_g2_query`, `h_query`, `l_query` |
//! | then | `alpha_g1`, `beta_g1`, `delta_g1` (G1); `beta_g2`, `gamma_g2`, `delta_g2` (G2) |
//! | then | `gamma_abc_g1`, `a_query`, `b_g1_query`, `h_query`, `l_query` (G1), `b_g2_query` (G2) |
//!
//! and nothing after. Every bit pattern of a coordinate is a valid value of
//! the type, so viewing any well-sized, aligned bytes as points is sound;
//! whether they are *meaningful* points is what [`ProvingKeyRef::validate`]
//! checks, for a key from elsewhere. A key this prover wrote itself is used
//! as it is.

use std::mem::{align_of, offset_of, size_of};

use ark_bn254::{Bn254, Fq, Fq2, G1Affine, G2Affine};
use ark_ec::short_weierstrass::Affine;
use ark_ec::AffineRepr;
use ark_ff::{BigInt, PrimeField};
use ark_groth16::{ProvingKey, VerifyingKey};

use crate::par;

/// Word 0 of a packed key: `"DPGRTH16"` read as a little-endian `u64`.
pub const PACKED_MAGIC: u64 = u64::from_le_bytes(*b"DPGRTH16");

/// Words before the first point: the magic and six lengths.
const HEADER_WORDS: usize = 7;
/// Bytes of a packed G1 point.
const G1_BYTES: usize = 64;
/// Bytes of a packed G2 point.
const G2_BYTES: usize = 128;

// The packed layout is arkworks' in-memory layout; these hold it to that
// (a different layout in a future arkworks fails the build, not a proof).
const _: () = {
    assert!(size_of::<BigInt<4>>() == 32 && offset_of!(BigInt<4>, 0) == 0);
    assert!(size_of::<Fq>() == 32 && align_of::<Fq>() == 8 && offset_of!(Fq, 0) == 0);
    assert!(size_of::<Fq2>() == 64 && offset_of!(Fq2, c0) == 0 && offset_of!(Fq2, c1) == 32);
    assert!(size_of::<G1Affine>() == G1_BYTES && align_of::<G1Affine>() == 8);
    assert!(offset_of!(G1Affine, x) == 0 && offset_of!(G1Affine, y) == 32);
    assert!(size_of::<G2Affine>() == G2_BYTES && align_of::<G2Affine>() == 8);
    assert!(offset_of!(G2Affine, x) == 0 && offset_of!(G2Affine, y) == 64);
};

/// Why packed key bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackedKeyError {
    /// Shorter than the header or than the lengths it states.
    #[error("truncated: {found} bytes, the packed key needs {needed}")]
    Truncated {
        /// The bytes given.
        found: usize,
        /// The bytes the header's lengths need.
        needed: usize,
    },
    /// Word 0 is not [`PACKED_MAGIC`].
    #[error("not a packed Groth16 proving key (magic {0:#018x})")]
    BadMagic(u64),
    /// Bytes left after the last point.
    #[error("{0} bytes after the packed key")]
    TrailingBytes(usize),
    /// Lengths that do not describe one R1CS (`b_g1_query` and
    /// `b_g2_query` as long as `a_query`, `l_query` the rest after the
    /// instance variables) or that overflow.
    #[error("inconsistent lengths: {0}")]
    Inconsistent(String),
    /// In-place viewing needs 8-byte aligned bytes on a little-endian
    /// machine; [`read_packed`] copies instead.
    #[error("the bytes are not 8-byte aligned (or the machine is big-endian)")]
    Misaligned,
    /// A coordinate that is not a canonical base-field element, or a point
    /// off the curve or outside the prime-order subgroup.
    #[error("invalid point: {what}[{index}] is {problem}")]
    InvalidPoint {
        /// Which part of the key.
        what: &'static str,
        /// Its index there.
        index: usize,
        /// What is wrong with it.
        problem: &'static str,
    },
}

/// A Groth16 proving key over BN254, borrowed: what the prover reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvingKeyRef<'a> {
    /// `[alpha]_1`.
    pub alpha_g1: G1Affine,
    /// `[beta]_1`.
    pub beta_g1: G1Affine,
    /// `[delta]_1`.
    pub delta_g1: G1Affine,
    /// `[beta]_2`.
    pub beta_g2: G2Affine,
    /// `[gamma]_2`.
    pub gamma_g2: G2Affine,
    /// `[delta]_2`.
    pub delta_g2: G2Affine,
    /// The verifying key's `[(beta u_i + alpha v_i + w_i) / gamma]_1` for
    /// the instance variables.
    pub gamma_abc_g1: &'a [G1Affine],
    /// `[u_i(tau)]_1` for every variable.
    pub a_query: &'a [G1Affine],
    /// `[v_i(tau)]_1` for every variable.
    pub b_g1_query: &'a [G1Affine],
    /// `[v_i(tau)]_2` for every variable.
    pub b_g2_query: &'a [G2Affine],
    /// `[tau^j Z(tau) / delta]_1`.
    pub h_query: &'a [G1Affine],
    /// `[(beta u_i + alpha v_i + w_i) / delta]_1` for the witness variables.
    pub l_query: &'a [G1Affine],
}

impl<'a> From<&'a ProvingKey<Bn254>> for ProvingKeyRef<'a> {
    fn from(pk: &'a ProvingKey<Bn254>) -> Self {
        ProvingKeyRef {
            alpha_g1: pk.vk.alpha_g1,
            beta_g1: pk.beta_g1,
            delta_g1: pk.delta_g1,
            beta_g2: pk.vk.beta_g2,
            gamma_g2: pk.vk.gamma_g2,
            delta_g2: pk.vk.delta_g2,
            gamma_abc_g1: &pk.vk.gamma_abc_g1,
            a_query: &pk.a_query,
            b_g1_query: &pk.b_g1_query,
            b_g2_query: &pk.b_g2_query,
            h_query: &pk.h_query,
            l_query: &pk.l_query,
        }
    }
}

/// The six lengths of the header, in layout order.
#[derive(Debug, Clone, Copy)]
struct Lengths {
    gamma_abc: usize,
    a: usize,
    b_g1: usize,
    b_g2: usize,
    h: usize,
    l: usize,
}

impl Lengths {
    fn of(pk: &ProvingKeyRef<'_>) -> Self {
        Lengths {
            gamma_abc: pk.gamma_abc_g1.len(),
            a: pk.a_query.len(),
            b_g1: pk.b_g1_query.len(),
            b_g2: pk.b_g2_query.len(),
            h: pk.h_query.len(),
            l: pk.l_query.len(),
        }
    }

    /// Checks that the lengths describe one R1CS and returns the packed
    /// size in bytes.
    fn packed_len(&self) -> Result<usize, PackedKeyError> {
        let bad = |m: String| PackedKeyError::Inconsistent(m);
        if self.gamma_abc == 0 {
            return Err(bad("no instance variables (gamma_abc_g1 is empty)".into()));
        }
        if self.b_g1 != self.a || self.b_g2 != self.a {
            return Err(bad(format!(
                "a_query has {} points, b_g1_query {}, b_g2_query {}",
                self.a, self.b_g1, self.b_g2
            )));
        }
        if self.a < self.gamma_abc || self.l != self.a - self.gamma_abc {
            return Err(bad(format!(
                "{} variables, {} instance variables, {} l_query points",
                self.a, self.gamma_abc, self.l
            )));
        }
        let g1 = [3, self.gamma_abc, self.a, self.b_g1, self.h, self.l]
            .into_iter()
            .try_fold(0usize, usize::checked_add);
        let g2 = 3usize.checked_add(self.b_g2);
        g1.and_then(|g1| g1.checked_mul(G1_BYTES))
            .zip(g2.and_then(|g2| g2.checked_mul(G2_BYTES)))
            .and_then(|(a, b)| a.checked_add(b))
            .and_then(|n| n.checked_add(HEADER_WORDS * 8))
            .ok_or_else(|| bad("the lengths overflow".into()))
    }
}

impl<'a> ProvingKeyRef<'a> {
    /// Views packed key bytes in place (see the module docs): checks the
    /// magic, the lengths and the size, and reinterprets the rest; no point
    /// is read. The bytes must be 8-byte aligned (a memory-mapped file's
    /// are, at any multiple of 8 from its start).
    pub fn from_packed(bytes: &'a [u8]) -> Result<Self, PackedKeyError> {
        let lengths = read_header(bytes)?;
        if cfg!(target_endian = "big") || !(bytes.as_ptr() as usize).is_multiple_of(8) {
            return Err(PackedKeyError::Misaligned);
        }
        let mut cur = Cursor::new(&bytes[HEADER_WORDS * 8..]);
        Ok(ProvingKeyRef {
            alpha_g1: cur.points::<G1Affine>(1)[0],
            beta_g1: cur.points::<G1Affine>(1)[0],
            delta_g1: cur.points::<G1Affine>(1)[0],
            beta_g2: cur.points::<G2Affine>(1)[0],
            gamma_g2: cur.points::<G2Affine>(1)[0],
            delta_g2: cur.points::<G2Affine>(1)[0],
            gamma_abc_g1: cur.points(lengths.gamma_abc),
            a_query: cur.points(lengths.a),
            b_g1_query: cur.points(lengths.b_g1),
            h_query: cur.points(lengths.h),
            l_query: cur.points(lengths.l),
            b_g2_query: cur.points(lengths.b_g2),
        })
    }

    /// The packed size of this key in bytes.
    pub fn packed_len(&self) -> Result<usize, PackedKeyError> {
        Lengths::of(self).packed_len()
    }

    /// Appends the packed form of this key to `out`.
    pub fn write_packed(&self, out: &mut Vec<u8>) -> Result<(), PackedKeyError> {
        let lengths = Lengths::of(self);
        out.reserve(lengths.packed_len()?);
        out.extend_from_slice(&PACKED_MAGIC.to_le_bytes());
        for n in [
            lengths.gamma_abc,
            lengths.a,
            lengths.b_g1,
            lengths.b_g2,
            lengths.h,
            lengths.l,
        ] {
            out.extend_from_slice(&(n as u64).to_le_bytes());
        }
        for p in [self.alpha_g1, self.beta_g1, self.delta_g1] {
            put_g1(out, &p);
        }
        for p in [self.beta_g2, self.gamma_g2, self.delta_g2] {
            put_g2(out, &p);
        }
        for query in [
            self.gamma_abc_g1,
            self.a_query,
            self.b_g1_query,
            self.h_query,
            self.l_query,
        ] {
            query.iter().for_each(|p| put_g1(out, p));
        }
        self.b_g2_query.iter().for_each(|p| put_g2(out, p));
        Ok(())
    }

    /// The packed form of this key.
    pub fn to_packed(&self) -> Result<Vec<u8>, PackedKeyError> {
        let mut out = Vec::new();
        self.write_packed(&mut out)?;
        Ok(out)
    }

    /// An owned arkworks key with the same points.
    pub fn to_arkworks(&self) -> ProvingKey<Bn254> {
        ProvingKey {
            vk: self.verifying_key(),
            beta_g1: self.beta_g1,
            delta_g1: self.delta_g1,
            a_query: self.a_query.to_vec(),
            b_g1_query: self.b_g1_query.to_vec(),
            b_g2_query: self.b_g2_query.to_vec(),
            h_query: self.h_query.to_vec(),
            l_query: self.l_query.to_vec(),
        }
    }

    /// The verifying key inside.
    pub fn verifying_key(&self) -> VerifyingKey<Bn254> {
        VerifyingKey {
            alpha_g1: self.alpha_g1,
            beta_g2: self.beta_g2,
            gamma_g2: self.gamma_g2,
            delta_g2: self.delta_g2,
            gamma_abc_g1: self.gamma_abc_g1.to_vec(),
        }
    }

    /// Checks every point of a key from elsewhere: canonical coordinates,
    /// on the curve, in the prime-order subgroup (G2 has a cofactor; BN254's
    /// G1 has none), and the lengths consistent. Returns the first problem
    /// found.
    pub fn validate(&self) -> Result<(), PackedKeyError> {
        Lengths::of(self).packed_len()?;
        let fixed_g1 = [
            ("alpha_g1", self.alpha_g1),
            ("beta_g1", self.beta_g1),
            ("delta_g1", self.delta_g1),
        ];
        for (what, p) in fixed_g1 {
            check_g1(what, 0, &p)?;
        }
        let fixed_g2 = [
            ("beta_g2", self.beta_g2),
            ("gamma_g2", self.gamma_g2),
            ("delta_g2", self.delta_g2),
        ];
        for (what, p) in fixed_g2 {
            check_g2(what, 0, &p)?;
        }
        let g1: [(&'static str, &[G1Affine]); 5] = [
            ("gamma_abc_g1", self.gamma_abc_g1),
            ("a_query", self.a_query),
            ("b_g1_query", self.b_g1_query),
            ("h_query", self.h_query),
            ("l_query", self.l_query),
        ];
        for (what, points) in g1 {
            check_all(what, points, check_g1)?;
        }
        check_all("b_g2_query", self.b_g2_query, check_g2)
    }
}

/// Reads packed key bytes into an owned arkworks key: any alignment, any
/// byte order, and no point checked (see [`ProvingKeyRef::validate`]).
pub fn read_packed(bytes: &[u8]) -> Result<ProvingKey<Bn254>, PackedKeyError> {
    let lengths = read_header(bytes)?;
    let mut r = WordReader {
        words: bytes[HEADER_WORDS * 8..].chunks_exact(8),
    };
    let (alpha_g1, beta_g1, delta_g1) = (r.g1(), r.g1(), r.g1());
    let (beta_g2, gamma_g2, delta_g2) = (r.g2(), r.g2(), r.g2());
    let gamma_abc_g1 = r.g1s(lengths.gamma_abc);
    let a_query = r.g1s(lengths.a);
    let b_g1_query = r.g1s(lengths.b_g1);
    let h_query = r.g1s(lengths.h);
    let l_query = r.g1s(lengths.l);
    let b_g2_query = (0..lengths.b_g2).map(|_| r.g2()).collect();
    Ok(ProvingKey {
        vk: VerifyingKey {
            alpha_g1,
            beta_g2,
            gamma_g2,
            delta_g2,
            gamma_abc_g1,
        },
        beta_g1,
        delta_g1,
        a_query,
        b_g1_query,
        b_g2_query,
        h_query,
        l_query,
    })
}

/// Reads points word by word (any alignment, any byte order), from bytes
/// whose size `read_header` checked.
struct WordReader<'a> {
    words: std::slice::ChunksExact<'a, u8>,
}

impl WordReader<'_> {
    fn fq(&mut self) -> Fq {
        let mut limbs = [0u64; 4];
        for l in &mut limbs {
            let mut w = [0u8; 8];
            if let Some(b) = self.words.next() {
                w.copy_from_slice(b);
            }
            *l = u64::from_le_bytes(w);
        }
        Fq::new_unchecked(BigInt(limbs))
    }

    fn g1(&mut self) -> G1Affine {
        let x = self.fq();
        G1Affine::new_unchecked(x, self.fq())
    }

    fn g1s(&mut self, n: usize) -> Vec<G1Affine> {
        (0..n).map(|_| self.g1()).collect()
    }

    fn g2(&mut self) -> G2Affine {
        let (x0, x1) = (self.fq(), self.fq());
        let (y0, y1) = (self.fq(), self.fq());
        G2Affine::new_unchecked(Fq2::new(x0, x1), Fq2::new(y0, y1))
    }
}

/// Checks the magic, the lengths and the exact size.
fn read_header(bytes: &[u8]) -> Result<Lengths, PackedKeyError> {
    let header = HEADER_WORDS * 8;
    if bytes.len() < header {
        return Err(PackedKeyError::Truncated {
            found: bytes.len(),
            needed: header,
        });
    }
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    if word(0) != PACKED_MAGIC {
        return Err(PackedKeyError::BadMagic(word(0)));
    }
    let len = |i: usize| {
        usize::try_from(word(i))
            .map_err(|_| PackedKeyError::Inconsistent(format!("length {} overflows", word(i))))
    };
    let lengths = Lengths {
        gamma_abc: len(1)?,
        a: len(2)?,
        b_g1: len(3)?,
        b_g2: len(4)?,
        h: len(5)?,
        l: len(6)?,
    };
    let needed = lengths.packed_len()?;
    match bytes.len().cmp(&needed) {
        std::cmp::Ordering::Less => Err(PackedKeyError::Truncated {
            found: bytes.len(),
            needed,
        }),
        std::cmp::Ordering::Greater => Err(PackedKeyError::TrailingBytes(bytes.len() - needed)),
        std::cmp::Ordering::Equal => Ok(lengths),
    }
}

/// Hands out consecutive point slices of checked, aligned packed bytes.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn new(rest: &'a [u8]) -> Self {
        Cursor { rest }
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        head
    }

    fn points<T: PackedPoint>(&mut self, n: usize) -> &'a [T] {
        let bytes = self.take(n * size_of::<T>());
        debug_assert_eq!(bytes.as_ptr() as usize % align_of::<T>(), 0);
        // SAFETY: `bytes` holds exactly `n * size_of::<T>()` bytes (checked
        // against the header by `read_header`, which `from_packed` calls
        // first), starts 8-byte aligned (the whole buffer is checked, and
        // every section is a multiple of 8 bytes long), and stays borrowed
        // for `'a`. `T` is a BN254 affine point: base-field elements of four
        // `u64` limbs at the offsets the layout assertions above fix, with
        // no padding and no infinity flag, so every bit pattern is a valid
        // value. Little-endian byte order is checked by `from_packed`.
        #[allow(unsafe_code)]
        unsafe {
            std::slice::from_raw_parts(bytes.as_ptr().cast::<T>(), n)
        }
    }
}

/// The affine points a packed key holds: valid for every bit pattern, in
/// the layouts the assertions at the top of this module fix.
trait PackedPoint: Copy {}

impl PackedPoint for Affine<ark_bn254::g1::Config> {}

impl PackedPoint for Affine<ark_bn254::g2::Config> {}

fn put_fq(out: &mut Vec<u8>, f: &Fq) {
    for limb in f.0 .0 {
        out.extend_from_slice(&limb.to_le_bytes());
    }
}

fn put_g1(out: &mut Vec<u8>, p: &G1Affine) {
    put_fq(out, &p.x);
    put_fq(out, &p.y);
}

fn put_g2(out: &mut Vec<u8>, p: &G2Affine) {
    for f in [&p.x.c0, &p.x.c1, &p.y.c0, &p.y.c1] {
        put_fq(out, f);
    }
}

fn canonical(f: &Fq) -> bool {
    f.0 < Fq::MODULUS
}

fn check_g1(what: &'static str, index: usize, p: &G1Affine) -> Result<(), PackedKeyError> {
    let problem = if !(canonical(&p.x) && canonical(&p.y)) {
        "not in canonical form"
    } else if !p.is_on_curve() {
        "not on the curve"
    } else {
        return Ok(());
    };
    Err(PackedKeyError::InvalidPoint {
        what,
        index,
        problem,
    })
}

fn check_g2(what: &'static str, index: usize, p: &G2Affine) -> Result<(), PackedKeyError> {
    let problem = if ![p.x.c0, p.x.c1, p.y.c0, p.y.c1].iter().all(canonical) {
        "not in canonical form"
    } else if !p.is_on_curve() {
        "not on the curve"
    } else if !p.is_zero() && !p.is_in_correct_subgroup_assuming_on_curve() {
        "outside the prime-order subgroup"
    } else {
        return Ok(());
    };
    Err(PackedKeyError::InvalidPoint {
        what,
        index,
        problem,
    })
}

/// `check` on every point, in parallel chunks; the first failure by index.
fn check_all<P: Sync>(
    what: &'static str,
    points: &[P],
    check: fn(&'static str, usize, &P) -> Result<(), PackedKeyError>,
) -> Result<(), PackedKeyError> {
    const CHUNK: usize = 1 << 10;
    let chunks = points.len().div_ceil(CHUNK);
    par::map(chunks, |c| {
        let start = c * CHUNK;
        let end = (start + CHUNK).min(points.len());
        (start..end).try_for_each(|i| check(what, i, &points[i]))
    })
    .into_iter()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::short_weierstrass::{Projective, SWCurveConfig};
    use ark_ec::{AffineRepr, CurveGroup};
    use ark_ff::UniformRand;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// `n` random points, every `every`-th (from `first`) at infinity.
    fn random_points<P: SWCurveConfig>(
        rng: &mut ChaCha20Rng,
        n: usize,
        first: usize,
        every: usize,
    ) -> Vec<Affine<P>> {
        (0..n)
            .map(|i| {
                if i % every == first {
                    Affine::<P>::zero()
                } else {
                    Projective::<P>::rand(rng).into_affine()
                }
            })
            .collect()
    }

    /// A key-shaped set of random points (not a real setup: the layout and
    /// validation do not care), with infinity among them.
    fn key(instance: usize, vars: usize, h: usize) -> ProvingKey<Bn254> {
        let mut rng = ChaCha20Rng::seed_from_u64(instance as u64 * 1000 + vars as u64);
        let mut g1 = |n: usize| -> Vec<G1Affine> { random_points(&mut rng, n, 3, 7) };
        let gamma_abc_g1 = g1(instance);
        let a_query = g1(vars);
        let b_g1_query = g1(vars);
        let h_query = g1(h);
        let l_query = g1(vars - instance);
        let fixed = g1(3);
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let mut g2 = |n: usize| -> Vec<G2Affine> { random_points(&mut rng, n, 2, 5) };
        let fixed2 = g2(3);
        ProvingKey {
            vk: VerifyingKey {
                alpha_g1: fixed[0],
                beta_g2: fixed2[0],
                gamma_g2: fixed2[1],
                delta_g2: fixed2[2],
                gamma_abc_g1,
            },
            beta_g1: fixed[1],
            delta_g1: fixed[2],
            a_query,
            b_g1_query,
            b_g2_query: g2(vars),
            h_query,
            l_query,
        }
    }

    /// Packed bytes in an 8-byte aligned buffer.
    fn aligned(bytes: &[u8]) -> Vec<u64> {
        bytes
            .chunks(8)
            .map(|c| {
                let mut w = [0u8; 8];
                w[..c.len()].copy_from_slice(c);
                u64::from_le_bytes(w)
            })
            .collect()
    }

    #[test]
    fn packed_keys_round_trip_in_place_and_owned() {
        for (instance, vars, h) in [(1, 1, 1), (2, 9, 15), (9, 40, 63)] {
            let pk = key(instance, vars, h);
            let r = ProvingKeyRef::from(&pk);
            let packed = r.to_packed().expect("pack");
            assert_eq!(packed.len(), r.packed_len().expect("len"));
            assert_eq!(read_packed(&packed).expect("read"), pk);
            // In place: views the words of an aligned buffer.
            let words = aligned(&packed);
            let view = view_words(&words);
            assert_eq!(view, r);
            assert_eq!(view.to_arkworks(), pk);
            assert!(view.validate().is_ok());
        }
    }

    /// `from_packed` over a `u64` buffer's bytes (aligned by construction).
    fn view_words(words: &[u64]) -> ProvingKeyRef<'_> {
        // The little-endian bytes of `words`, borrowed: on little-endian
        // machines a `u64` buffer is its own byte image.
        let bytes: &[u8] = bytemuck_like(words);
        ProvingKeyRef::from_packed(bytes).expect("view")
    }

    fn bytemuck_like(words: &[u64]) -> &[u8] {
        // SAFETY: u8 has alignment 1 and every byte of a u64 is initialised.
        #[allow(unsafe_code)]
        unsafe {
            std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), words.len() * 8)
        }
    }

    #[test]
    fn misaligned_bytes_are_refused_for_in_place_use_and_read_when_copied() {
        let pk = key(2, 5, 7);
        let packed = ProvingKeyRef::from(&pk).to_packed().expect("pack");
        let words = aligned(&[&[0u8][..], &packed].concat());
        let shifted = &bytemuck_like(&words)[1..=packed.len()];
        assert_eq!(
            ProvingKeyRef::from_packed(shifted),
            Err(PackedKeyError::Misaligned)
        );
        assert_eq!(read_packed(shifted).expect("copied"), pk);
    }

    #[test]
    fn bad_headers_and_sizes_are_refused() {
        let pk = key(2, 5, 7);
        let packed = ProvingKeyRef::from(&pk).to_packed().expect("pack");
        let n = packed.len();
        assert!(matches!(
            read_packed(&packed[..n - 1]),
            Err(PackedKeyError::Truncated { found, needed }) if found == n - 1 && needed == n
        ));
        assert!(matches!(
            read_packed(&packed[..20]),
            Err(PackedKeyError::Truncated { needed: 56, .. })
        ));
        assert_eq!(
            read_packed(&[&packed[..], &[0u8; 8]].concat()),
            Err(PackedKeyError::TrailingBytes(8))
        );
        let mut bad = packed.clone();
        bad[0] ^= 1;
        assert!(matches!(
            read_packed(&bad),
            Err(PackedKeyError::BadMagic(_))
        ));
        // b_g2_query one shorter than a_query.
        let mut bad = packed.clone();
        bad[4 * 8] -= 1;
        assert!(matches!(
            read_packed(&bad),
            Err(PackedKeyError::Inconsistent(m)) if m.contains("b_g2_query 4")
        ));
        // An absurd length overflows instead of allocating.
        let mut bad = packed.clone();
        bad[5 * 8..6 * 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            read_packed(&bad),
            Err(PackedKeyError::Inconsistent(_))
        ));
        // No instance variables.
        let mut bad = packed;
        bad[8..16].copy_from_slice(&0u64.to_le_bytes());
        assert!(
            matches!(read_packed(&bad), Err(PackedKeyError::Inconsistent(m)) if m.contains("no instance"))
        );
    }

    #[test]
    fn validation_names_the_bad_point() {
        let pk = key(2, 9, 15);
        // Off the curve: y + 1.
        let mut off = pk.clone();
        off.h_query[5] = G1Affine::new_unchecked(off.h_query[5].x, off.h_query[5].y + Fq::from(1));
        assert_eq!(
            ProvingKeyRef::from(&off).validate(),
            Err(PackedKeyError::InvalidPoint {
                what: "h_query",
                index: 5,
                problem: "not on the curve"
            })
        );
        // Not canonical: the modulus itself as a coordinate.
        let mut wide = pk.clone();
        wide.l_query[2] = G1Affine::new_unchecked(Fq::new_unchecked(Fq::MODULUS), Fq::from(2));
        assert!(matches!(
            ProvingKeyRef::from(&wide).validate(),
            Err(PackedKeyError::InvalidPoint {
                what: "l_query",
                index: 2,
                problem: "not in canonical form"
            })
        ));
        // On the twist but outside G2's prime-order subgroup.
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let outside = loop {
            let x = Fq2::rand(&mut rng);
            if let Some(p) = G2Affine::get_point_from_x_unchecked(x, false) {
                if !p.is_in_correct_subgroup_assuming_on_curve() {
                    break p;
                }
            }
        };
        let mut sub = pk.clone();
        sub.b_g2_query[4] = outside;
        assert_eq!(
            ProvingKeyRef::from(&sub).validate(),
            Err(PackedKeyError::InvalidPoint {
                what: "b_g2_query",
                index: 4,
                problem: "outside the prime-order subgroup"
            })
        );
        let mut fixed = pk;
        fixed.vk.delta_g2 = outside;
        assert!(matches!(
            ProvingKeyRef::from(&fixed).validate(),
            Err(PackedKeyError::InvalidPoint {
                what: "delta_g2",
                ..
            })
        ));
    }

    #[test]
    fn infinity_is_all_zeros() {
        let mut out = Vec::new();
        put_g1(&mut out, &G1Affine::zero());
        put_g2(&mut out, &G2Affine::zero());
        assert!(out.iter().all(|b| *b == 0));
        let g = G1Affine::generator();
        let mut out = Vec::new();
        put_g1(&mut out, &g);
        // Montgomery limbs, not the canonical integer: the generator is (1, 2).
        assert_ne!(out[..8], 1u64.to_le_bytes());
    }
}
