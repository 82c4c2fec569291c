//! The initial `.zkey` of a circuit from its `.r1cs` and a prepared
//! `.ptau`, byte for byte as `snarkjs zkey new` (0.7) writes it.
//!
//! With `m` constraints, `p` public wires (the one excluded) and `n` the
//! domain size (the smallest power of two above `m + p`):
//!
//! * `alpha_1, beta_1, beta_2` are the `.ptau`'s; `gamma_2, delta_1,
//!   delta_2` the generators (delta becomes secret with the first
//!   contribution);
//! * `A_i = sum_c A[c][i] [L_c(tau)]_1` (plus `[L_(m+i)(tau)]_1` for the
//!   public wires and the one), `B1_i`, `B2_i` likewise from B, and for
//!   every wire `sum_c (A[c][i] [beta L_c]_1 + B[c][i] [alpha L_c]_1 +
//!   C[c][i] [L_c]_1)`, into `IC` for the public wires and the one, `C`
//!   for the others (gamma and delta are one);
//! * `H_j = [L'_(2j+1)(tau)]_1` with `L'` the Lagrange basis of `2n`;
//! * the coefficient section lists, constraint by constraint, A's terms
//!   then B's in the `.r1cs` order, then `(A, m + i, i, 1)` for each public
//!   wire and the one;
//! * the circuit hash is BLAKE2b over the six key points, then for `IC`,
//!   `H`, `C`, `A`, `B1`, `B2` in that order a big-endian u32 count and the
//!   points, uncompressed; for `H` snarkjs hashes not the section but
//!   `[tau^j (tau^n - 1)]_1` with a count of `n - 1`, and for `n` above
//!   `2^14 + 1` it hashes `n` such points (its chunked loop reads a full
//!   last chunk), so it reads section 2 up to `tau^(2n - 1)`: a `.ptau`
//!   of power `log2 n` lacks that point, so such circuits need one power
//!   more ([`required_ptau_power`]).
//!
//! The group sums run per wire in parallel ([`super::compose`]).

use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::One;
use depin_prover_core::par;

use super::compose::{compose, Term};
use super::{Coefficient, MpcParams, Zkey, ZkeyError, ZkeyHeader};
use crate::blake2b::Blake2b;
use crate::encoding::{g1_uncompressed, g2_uncompressed};
use crate::ptau::{id as ptau_id, Ptau};
use crate::r1cs::R1cs;

/// Points per chunk of snarkjs's circuit-hash loop over `H`.
const H_HASH_CHUNK: u64 = 1 << 14;

/// The largest domain power this setup supports (snarkjs reads the
/// 2^28 case differently; nothing here proves at that size).
const MAX_DOMAIN_POWER: u32 = 27;

/// The `.ptau` power a circuit with domain `2^domain_power` needs: the
/// domain itself, plus one above `2^14` (see the module docs).
pub fn required_ptau_power(domain_power: u32) -> u32 {
    if (1u64 << domain_power) - 1 > H_HASH_CHUNK {
        domain_power + 1
    } else {
        domain_power
    }
}

/// Why [`required_ptau_power`] asks for that power.
fn power_reason(r1cs: &R1cs, domain_power: u32) -> String {
    let rows = r1cs.n_constraints() as u64 + u64::from(r1cs.n_public());
    if required_ptau_power(domain_power) > domain_power {
        format!(
            "{} constraints and {} public wires make a domain of 2^{domain_power}, and snarkjs's circuit hash reads one power more at that size",
            r1cs.n_constraints(),
            r1cs.n_public()
        )
    } else {
        format!(
            "{rows} QAP rows ({} constraints and {} public wires and the one) need a domain of 2^{domain_power}",
            r1cs.n_constraints(),
            r1cs.n_public()
        )
    }
}

fn hash_u32(h: &mut Blake2b, n: u64) {
    h.update(&(n as u32).to_be_bytes());
}

/// The coefficient section of `r1cs`'s keys: per constraint its `A` then
/// its `B` entries, then the row `A[m + i][i] = 1` of the one and each
/// public wire, in the order snarkjs writes them.
pub fn coefficients(r1cs: &R1cs) -> Vec<Coefficient> {
    let m = r1cs.n_constraints();
    let mut coeffs = Vec::new();
    for (c, row) in r1cs.constraints.iter().enumerate() {
        for (matrix, entries) in [(0, &row.a), (1, &row.b)] {
            coeffs.extend(entries.iter().map(|&(signal, value)| Coefficient {
                matrix,
                constraint: c as u32,
                signal,
                value,
            }));
        }
    }
    coeffs.extend((0..=r1cs.n_public()).map(|s| Coefficient {
        matrix: 0,
        constraint: (m as u32) + s,
        signal: s,
        value: Fr::one(),
    }));
    coeffs
}

/// The initial key of `r1cs` on `ptau` (see the module docs). Refuses a
/// `.ptau` too small for the circuit, naming the power it needs.
#[allow(
    clippy::too_many_lines,
    reason = "the sections and the circuit hash in the order snarkjs hashes them"
)]
pub fn new(r1cs: &R1cs, ptau: &mut Ptau) -> Result<Zkey, ZkeyError> {
    let p = r1cs.domain_power();
    if p > MAX_DOMAIN_POWER {
        return Err(ZkeyError::CircuitTooLarge(p));
    }
    ptau.require(required_ptau_power(p), power_reason(r1cs, p))?;
    let n = 1usize << p;
    let m = r1cs.n_constraints();
    let n_public = r1cs.n_public() as usize;
    let n_vars = r1cs.n_wires as usize;

    let alpha_1 = ptau.alpha_g1()?;
    let beta_1 = ptau.beta_g1()?;
    let beta_2 = ptau.beta_g2()?;
    let (gamma_2, delta_1, delta_2) = (
        G2Affine::generator(),
        G1Affine::generator(),
        G2Affine::generator(),
    );
    let mut cs = Blake2b::new();
    for p1 in [alpha_1, beta_1] {
        cs.update(&g1_uncompressed(&p1));
    }
    cs.update(&g2_uncompressed(&beta_2));
    cs.update(&g2_uncompressed(&gamma_2));
    cs.update(&g1_uncompressed(&delta_1));
    cs.update(&g2_uncompressed(&delta_2));

    // Bases: 0 tau, 1 alpha tau, 2 beta tau (G1); tau in G2.
    let tau_l = ptau.lagrange_g1(ptau_id::LAGRANGE_G1, p)?;
    let alpha_l = ptau.lagrange_g1(ptau_id::LAGRANGE_ALPHA_G1, p)?;
    let beta_l = ptau.lagrange_g1(ptau_id::LAGRANGE_BETA_G1, p)?;
    let tau_l2 = ptau.lagrange_g2(p)?;
    const TAU: u8 = 0;
    const ALPHA: u8 = 1;
    const BETA: u8 = 2;

    let mut a: Vec<Vec<Term>> = vec![Vec::new(); n_vars];
    let mut b: Vec<Vec<Term>> = vec![Vec::new(); n_vars];
    let mut ic_c: Vec<Vec<Term>> = vec![Vec::new(); n_vars];
    for (c, row) in r1cs.constraints.iter().enumerate() {
        let c32 = c as u32;
        for &(s, k) in &row.a {
            a[s as usize].push((TAU, c32, k));
            ic_c[s as usize].push((BETA, c32, k));
        }
        for &(s, k) in &row.b {
            b[s as usize].push((TAU, c32, k));
            ic_c[s as usize].push((ALPHA, c32, k));
        }
        for &(s, k) in &row.c {
            ic_c[s as usize].push((TAU, c32, k));
        }
    }
    for s in 0..=n_public {
        let row = (m + s) as u32;
        a[s].push((TAU, row, Fr::one()));
        ic_c[s].push((BETA, row, Fr::one()));
    }

    let g1_bases: [&[G1Affine]; 3] = [&tau_l, &alpha_l, &beta_l];
    let ic_all = compose(&g1_bases, &ic_c);
    drop(ic_c);
    let ic = ic_all[..=n_public].to_vec();
    let c_points = ic_all[n_public + 1..].to_vec();
    drop(ic_all);

    // H: the odd points of the Lagrange basis of 2n.
    let lagrange_2n = ptau.lagrange_g1(ptau_id::LAGRANGE_G1, p + 1)?;
    let h: Vec<G1Affine> = lagrange_2n.iter().skip(1).step_by(2).copied().collect();
    drop(lagrange_2n);

    hash_u32(&mut cs, ic.len() as u64);
    for q in &ic {
        cs.update(&g1_uncompressed(q));
    }
    // snarkjs's H hash: tau^(j+n) - tau^j, chunked (see the module docs).
    let n64 = n as u64;
    hash_u32(&mut cs, n64 - 1);
    let chunk = (n64 - 1).min(H_HASH_CHUNK);
    let hashed = (n64 - 1).div_ceil(H_HASH_CHUNK) * chunk;
    let mut start = 0u64;
    while start < hashed {
        let count = chunk.min(hashed - start);
        let hi = ptau.tau_g1(start + n64, count)?;
        let lo = ptau.tau_g1(start, count)?;
        let diff: Vec<G1Projective> = par::map(hi.len(), |i| hi[i].into_group() - lo[i]);
        for d in G1Projective::normalize_batch(&diff) {
            cs.update(&g1_uncompressed(&d));
        }
        start += count;
    }

    hash_u32(&mut cs, c_points.len() as u64);
    for q in &c_points {
        cs.update(&g1_uncompressed(q));
    }
    let a_points = compose(&g1_bases, &a);
    hash_u32(&mut cs, a_points.len() as u64);
    for q in &a_points {
        cs.update(&g1_uncompressed(q));
    }
    let b1_points = compose(&g1_bases, &b);
    hash_u32(&mut cs, b1_points.len() as u64);
    for q in &b1_points {
        cs.update(&g1_uncompressed(q));
    }
    let g2_bases: [&[G2Affine]; 1] = [&tau_l2];
    let b2_points = compose(&g2_bases, &b);
    hash_u32(&mut cs, b2_points.len() as u64);
    for q in &b2_points {
        cs.update(&g2_uncompressed(q));
    }

    Ok(Zkey {
        header: ZkeyHeader {
            n_vars: r1cs.n_wires,
            n_public: n_public as u32,
            domain_size: n as u32,
            alpha_1,
            beta_1,
            beta_2,
            gamma_2,
            delta_1,
            delta_2,
        },
        ic,
        coeffs: coefficients(r1cs),
        a: a_points,
        b1: b1_points,
        b2: b2_points,
        c: c_points,
        h,
        mpc: MpcParams {
            cs_hash: cs.finalize(),
            contributions: Vec::new(),
        },
    })
}
