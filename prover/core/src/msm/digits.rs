//! Signed (Booth) window digits.
//!
//! Window `w` of width `c` reads the `c + 1` bits `s[wc - 1 .. wc + c]` (the
//! bit below the window is 0 for `w = 0`) and gives the digit
//! `(t >> 1) + (t & 1) - 2^c * top_bit`, in `[-2^(c-1), 2^(c-1)]`. The digits
//! of all windows telescope back to the scalar when `windows * c` exceeds
//! the scalar's bit length, so one bucket per absolute value (`2^(c-1)` of
//! them) suffices, the sign becoming a point negation.

/// `len <= 32` bits of `limbs` starting at bit `start` (bits past the end are 0).
#[inline(always)]
fn bits(limbs: &[u64], start: usize, len: usize) -> u64 {
    let limb = start / 64;
    let shift = start % 64;
    if limb >= limbs.len() {
        return 0;
    }
    let mut v = limbs[limb] >> shift;
    if shift + len > 64 && limb + 1 < limbs.len() {
        v |= limbs[limb + 1] << (64 - shift);
    }
    v & ((1u64 << len) - 1)
}

/// The Booth digit of window `w` (width `c`, `1 <= c <= 30`).
#[inline(always)]
pub(crate) fn booth_digit(limbs: &[u64], w: usize, c: usize) -> i32 {
    let t = if w == 0 {
        bits(limbs, 0, c) << 1
    } else {
        bits(limbs, w * c - 1, c + 1)
    };
    let top = (t >> c) & 1;
    ((t >> 1) + (t & 1)) as i32 - ((top << c) as i32)
}

/// Windows of width `c` that cover a `num_bits`-bit scalar with Booth digits.
pub(crate) fn num_windows(num_bits: usize, c: usize) -> usize {
    (num_bits + 1).div_ceil(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_telescope() {
        let limbs = [
            0x0123_4567_89ab_cdef,
            0xfedc_ba98_7654_3210,
            0xffff_ffff_ffff_ffff,
            0x3064_4e72_e131_a028,
        ];
        for c in 1..=22 {
            let w = num_windows(254, c);
            // Sum digits * 2^(wc) as a 320-bit integer in 5 limbs (i128 chunks).
            let mut acc = [0i128; 6];
            for i in 0..w {
                let d = booth_digit(&limbs, i, c) as i128;
                assert!(d.abs() <= 1 << (c - 1));
                let pos = i * c;
                let (l, s) = (pos / 64, pos % 64);
                acc[l] += d << s;
            }
            // Normalise carries.
            let mut out = [0u64; 5];
            let mut carry = 0i128;
            for i in 0..5 {
                let v = acc[i] + carry;
                out[i] = v as u64;
                carry = v >> 64;
            }
            assert_eq!(&out[..4], &limbs, "c = {c}");
            assert_eq!(out[4], 0);
        }
    }
}
