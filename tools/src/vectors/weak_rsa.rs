//! RSASSA-PKCS1-v1_5 with SHA-256 for the 1024-bit test key (aws-lc refuses keys under 2048
//! bits), on a small unsigned big integer.

use sha2::Digest;

fn encode(msg: &[u8], k: usize) -> Vec<u8> {
    const PREFIX: [u8; 19] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
        0x20,
    ];
    let h = sha2::Sha256::digest(msg);
    let mut em = vec![0x00, 0x01];
    em.extend(std::iter::repeat_n(0xff, k - 3 - PREFIX.len() - h.len()));
    em.push(0);
    em.extend_from_slice(&PREFIX);
    em.extend_from_slice(&h);
    em
}

pub fn sign(n: &Big, d: &Big, msg: &[u8]) -> Vec<u8> {
    let k = n.byte_len();
    Big::from_be(&encode(msg, k)).modpow(d, n).to_be(k)
}

pub fn verify(n: &Big, e: &Big, msg: &[u8], sig: &[u8]) -> bool {
    let k = n.byte_len();
    let s = Big::from_be(sig);
    sig.len() == k && s.lt(n) && s.modpow(e, n).to_be(k) == encode(msg, k)
}

/// Unsigned big integer, little-endian 32-bit limbs, no leading zero limbs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Big(Vec<u32>);

impl Big {
    pub fn from_be(b: &[u8]) -> Big {
        let mut v: Vec<u32> = b
            .rchunks(4)
            .map(|c| c.iter().fold(0u32, |x, &y| x << 8 | y as u32))
            .collect();
        while v.last() == Some(&0) {
            v.pop();
        }
        Big(v)
    }
    pub fn to_be(&self, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        for (i, limb) in self.0.iter().enumerate() {
            for j in 0..4 {
                let pos = i * 4 + j;
                if pos < len {
                    out[len - 1 - pos] = (limb >> (8 * j)) as u8;
                }
            }
        }
        out
    }
    fn bits(&self) -> usize {
        self.0
            .last()
            .map_or(0, |l| self.0.len() * 32 - l.leading_zeros() as usize)
    }
    pub fn byte_len(&self) -> usize {
        self.bits().div_ceil(8)
    }
    fn bit(&self, i: usize) -> bool {
        self.0.get(i / 32).is_some_and(|l| l >> (i % 32) & 1 == 1)
    }
    pub fn lt(&self, o: &Big) -> bool {
        if self.0.len() != o.0.len() {
            return self.0.len() < o.0.len();
        }
        for i in (0..self.0.len()).rev() {
            if self.0[i] != o.0[i] {
                return self.0[i] < o.0[i];
            }
        }
        false
    }
    fn mul(&self, o: &Big) -> Big {
        let mut r = vec![0u32; self.0.len() + o.0.len()];
        for (i, &a) in self.0.iter().enumerate() {
            let mut carry = 0u64;
            for (j, &b) in o.0.iter().enumerate() {
                let t = r[i + j] as u64 + a as u64 * b as u64 + carry;
                r[i + j] = t as u32;
                carry = t >> 32;
            }
            r[i + o.0.len()] = carry as u32;
        }
        while r.last() == Some(&0) {
            r.pop();
        }
        Big(r)
    }
    fn sub_assign(&mut self, o: &Big) {
        let mut borrow = 0i64;
        for i in 0..self.0.len() {
            let t = self.0[i] as i64 - o.0.get(i).copied().unwrap_or(0) as i64 - borrow;
            self.0[i] = t.rem_euclid(1 << 32) as u32;
            borrow = (t < 0) as i64;
        }
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }
    fn shl1_or(&mut self, bit: bool) {
        let mut carry = bit as u32;
        for l in self.0.iter_mut() {
            let next = *l >> 31;
            *l = *l << 1 | carry;
            carry = next;
        }
        if carry != 0 {
            self.0.push(carry);
        }
    }
    fn rem(&self, m: &Big) -> Big {
        let mut r = Big(Vec::new());
        for i in (0..self.bits()).rev() {
            r.shl1_or(self.bit(i));
            if !r.lt(m) {
                r.sub_assign(m);
            }
        }
        r
    }
    pub fn modpow(&self, e: &Big, m: &Big) -> Big {
        let base = self.rem(m);
        let mut acc = Big(vec![1]);
        for i in (0..e.bits()).rev() {
            acc = acc.mul(&acc).rem(m);
            if e.bit(i) {
                acc = acc.mul(&base).rem(m);
            }
        }
        acc
    }
}
