//! BLAKE2b-512 (RFC 7693) with a state that can be saved and resumed.
//!
//! The circom ecosystem hashes with BLAKE2b-512 everywhere: a `.ptau`
//! file's published hash, a powers-of-tau contribution's response and next
//! challenge, a `.zkey`'s circuit hash, transcript and contribution hashes.
//! A `.ptau` contribution also stores the response hasher's state just
//! before the contributor's public key was hashed (216 bytes, "partial
//! hash"), so that anyone can finish the response hash from the stored key.
//! [`Blake2b::partial_state`] and [`Blake2b::from_partial_state`] read and
//! write that state in the layout snarkjs 0.7 stores (the internal state of
//! the `@noble/hashes` BLAKE2b it uses):
//!
//! | bytes | content |
//! | --- | --- |
//! | `0..128` | the block buffer (the bytes absorbed but not compressed) |
//! | `128..192` | the chaining value `h[0..8]`, each word as two little-endian `u32` halves, low first |
//! | `192..196` | the number of bytes compressed so far (low 32 bits) |
//! | `196..200` | the same number's high 32 bits |
//! | `200..204` | the number of bytes in the buffer |
//! | `204..216` | zero |
//!
//! Like that implementation this one compresses a buffered block only when
//! more input arrives (the last block must be compressed with the final
//! flag), so after any input the buffer holds between 1 and 128 bytes.

/// The BLAKE2b initialisation vector (the SHA-512 one).
const IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// The message word schedule of the twelve rounds.
const SIGMA: [[usize; 16]; 12] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
];

/// Bytes in a block.
const BLOCK: usize = 128;

/// Bytes of a BLAKE2b-512 digest.
pub const DIGEST_LEN: usize = 64;

/// Bytes of a saved state ([`Blake2b::partial_state`]).
pub const PARTIAL_STATE_LEN: usize = 216;

/// A saved state that cannot be resumed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid BLAKE2b partial state: {0}")]
pub struct PartialStateError(pub &'static str);

/// An incremental BLAKE2b-512 hasher (no key, no salt, no personalisation).
#[derive(Clone)]
pub struct Blake2b {
    h: [u64; 8],
    /// Bytes compressed so far.
    compressed: u128,
    buf: [u8; BLOCK],
    /// Bytes in `buf`.
    pos: usize,
}

impl Default for Blake2b {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Blake2b {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blake2b")
            .field("absorbed", &(self.compressed + self.pos as u128))
            .finish_non_exhaustive()
    }
}

impl Blake2b {
    /// A fresh BLAKE2b-512 hasher.
    pub fn new() -> Self {
        let mut h = IV;
        // Parameter block: digest length 64, no key, fanout 1, depth 1.
        h[0] ^= 0x0101_0000 ^ DIGEST_LEN as u64;
        Blake2b {
            h,
            compressed: 0,
            buf: [0; BLOCK],
            pos: 0,
        }
    }

    /// BLAKE2b-512 of `data`.
    pub fn digest(data: &[u8]) -> [u8; DIGEST_LEN] {
        let mut h = Self::new();
        h.update(data);
        h.finalize()
    }

    /// Absorbs `data`.
    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.pos == BLOCK {
                self.compressed += BLOCK as u128;
                let block = self.buf;
                self.compress(&block, false);
                self.pos = 0;
            }
            // Whole blocks straight from the input, keeping the last back.
            while self.pos == 0 && data.len() > BLOCK {
                let (block, rest) = data.split_at(BLOCK);
                self.compressed += BLOCK as u128;
                let mut b = [0u8; BLOCK];
                b.copy_from_slice(block);
                self.compress(&b, false);
                data = rest;
            }
            let take = (BLOCK - self.pos).min(data.len());
            self.buf[self.pos..self.pos + take].copy_from_slice(&data[..take]);
            self.pos += take;
            data = &data[take..];
        }
    }

    /// The digest of everything absorbed.
    pub fn finalize(mut self) -> [u8; DIGEST_LEN] {
        self.compressed += self.pos as u128;
        self.buf[self.pos..].fill(0);
        let block = self.buf;
        self.compress(&block, true);
        let mut out = [0u8; DIGEST_LEN];
        for (chunk, word) in out.chunks_exact_mut(8).zip(self.h) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        out
    }

    /// The state in snarkjs's 216-byte layout (see the module docs).
    pub fn partial_state(&self) -> [u8; PARTIAL_STATE_LEN] {
        let mut out = [0u8; PARTIAL_STATE_LEN];
        out[..self.pos].copy_from_slice(&self.buf[..self.pos]);
        for (i, word) in self.h.iter().enumerate() {
            out[128 + 8 * i..136 + 8 * i].copy_from_slice(&word.to_le_bytes());
        }
        let compressed = self.compressed as u64;
        out[192..200].copy_from_slice(&compressed.to_le_bytes());
        out[200..204].copy_from_slice(&(self.pos as u32).to_le_bytes());
        out
    }

    /// Resumes a state saved by [`Blake2b::partial_state`] (or by snarkjs).
    /// Refuses a buffer count above a block, a compressed count that is not
    /// a whole number of blocks, and an empty buffer after compressed
    /// blocks (neither writer leaves one).
    pub fn from_partial_state(state: &[u8; PARTIAL_STATE_LEN]) -> Result<Self, PartialStateError> {
        let word =
            |o: usize| u32::from_le_bytes([state[o], state[o + 1], state[o + 2], state[o + 3]]);
        let compressed = u64::from(word(192)) | (u64::from(word(196)) << 32);
        let pos = word(200) as usize;
        if pos > BLOCK || word(204) != 0 {
            return Err(PartialStateError("buffer length out of range"));
        }
        if compressed % BLOCK as u64 != 0 {
            return Err(PartialStateError("compressed length is not whole blocks"));
        }
        if compressed > 0 && pos == 0 {
            return Err(PartialStateError("empty buffer after compressed blocks"));
        }
        let mut h = [0u64; 8];
        for (i, w) in h.iter_mut().enumerate() {
            let o = 128 + 8 * i;
            *w = u64::from(word(o)) | (u64::from(word(o + 4)) << 32);
        }
        let mut buf = [0u8; BLOCK];
        buf[..pos].copy_from_slice(&state[..pos]);
        Ok(Blake2b {
            h,
            compressed: u128::from(compressed),
            buf,
            pos,
        })
    }

    fn compress(&mut self, block: &[u8; BLOCK], last: bool) {
        let mut m = [0u64; 16];
        for (w, chunk) in m.iter_mut().zip(block.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *w = u64::from_le_bytes(b);
        }
        let mut v = [0u64; 16];
        v[..8].copy_from_slice(&self.h);
        v[8..].copy_from_slice(&IV);
        v[12] ^= self.compressed as u64;
        v[13] ^= (self.compressed >> 64) as u64;
        if last {
            v[14] = !v[14];
        }
        #[inline(always)]
        fn g(v: &mut [u64; 16], a: usize, b: usize, c: usize, d: usize, x: u64, y: u64) {
            v[a] = v[a].wrapping_add(v[b]).wrapping_add(x);
            v[d] = (v[d] ^ v[a]).rotate_right(32);
            v[c] = v[c].wrapping_add(v[d]);
            v[b] = (v[b] ^ v[c]).rotate_right(24);
            v[a] = v[a].wrapping_add(v[b]).wrapping_add(y);
            v[d] = (v[d] ^ v[a]).rotate_right(16);
            v[c] = v[c].wrapping_add(v[d]);
            v[b] = (v[b] ^ v[c]).rotate_right(63);
        }
        for s in &SIGMA {
            g(&mut v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
            g(&mut v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
            g(&mut v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
            g(&mut v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
            g(&mut v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
            g(&mut v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
            g(&mut v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
            g(&mut v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
        }
        for i in 0..8 {
            self.h[i] ^= v[i] ^ v[i + 8];
        }
    }
}

/// snarkjs's display of a 64-byte hash: four lines of four big-endian
/// 32-bit words in hex, each line indented by two tabs, after `title` on
/// its own line when given (`formatHash` in snarkjs's `misc.js`).
pub fn format_hash(hash: &[u8; DIGEST_LEN], title: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(t) = title {
        s.push_str(t);
        s.push('\n');
    }
    for (i, row) in hash.chunks_exact(16).enumerate() {
        if i > 0 {
            s.push('\n');
        }
        s.push_str("\t\t");
        for (j, word) in row.chunks_exact(4).enumerate() {
            if j > 0 {
                s.push(' ');
            }
            s.push_str(&hex::encode(word));
        }
    }
    s
}
