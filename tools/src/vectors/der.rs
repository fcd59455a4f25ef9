//! DER encoding for the keys' public forms (SubjectPublicKeyInfo), ECDSA signatures in DER form,
//! and reading a PKCS#1 RSA private key.

fn len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        vec![n as u8]
    } else {
        let b: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|x| *x == 0).collect();
        let mut v = vec![0x80 | b.len() as u8];
        v.extend(b);
        v
    }
}
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend(len(content.len()));
    v.extend_from_slice(content);
    v
}
pub fn strip(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|x| *x != 0).unwrap_or(b.len().saturating_sub(1));
    &b[i..]
}
pub fn int(b: &[u8]) -> Vec<u8> {
    let mut v = strip(b).to_vec();
    if v.is_empty() || v[0] & 0x80 != 0 {
        v.insert(0, 0);
    }
    tlv(0x02, &v)
}
pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}
fn bit_string(b: &[u8]) -> Vec<u8> {
    let mut v = vec![0];
    v.extend_from_slice(b);
    tlv(0x03, &v)
}
pub fn rsa_spki(n: &[u8], e: &[u8]) -> Vec<u8> {
    let alg = seq(&[
        tlv(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]),
        vec![0x05, 0x00],
    ]);
    seq(&[alg, bit_string(&seq(&[int(n), int(e)]))])
}
pub fn ec_spki(p384: bool, x: &[u8], y: &[u8]) -> Vec<u8> {
    let curve: &[u8] = if p384 {
        &[0x2b, 0x81, 0x04, 0x00, 0x22]
    } else {
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
    };
    let alg = seq(&[tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]), tlv(0x06, curve)]);
    let mut point = vec![4];
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    seq(&[alg, bit_string(&point)])
}
pub fn ed25519_spki(x: &[u8]) -> Vec<u8> {
    seq(&[seq(&[tlv(0x06, &[0x2b, 0x65, 0x70])]), bit_string(x)])
}
/// ECDSA r||s → DER SEQUENCE { INTEGER r, INTEGER s }.
pub fn ecdsa_sig(raw: &[u8]) -> Vec<u8> {
    let (r, s) = raw.split_at(raw.len() / 2);
    seq(&[int(r), int(s)])
}
/// Read one TLV: (tag, content, rest).
fn read(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)? as usize;
    let (n, hdr) = if first < 0x80 {
        (first, 2)
    } else {
        let k = first & 0x7f;
        let mut n = 0usize;
        for i in 0..k {
            n = n << 8 | *b.get(2 + i)? as usize;
        }
        (n, 2 + k)
    };
    let content = b.get(hdr..hdr + n)?;
    Some((tag, content, &b[hdr + n..]))
}
/// PKCS#1 RSAPrivateKey → its INTEGERs (version, n, e, d, p, q, dp, dq, qi).
pub fn pkcs1_private_key(der: &[u8]) -> Option<Vec<Vec<u8>>> {
    let (tag, mut body, _) = read(der)?;
    if tag != 0x30 {
        return None;
    }
    let mut ints = Vec::new();
    while !body.is_empty() {
        let (t, c, rest) = read(body)?;
        if t != 0x02 {
            return None;
        }
        ints.push(c.to_vec());
        body = rest;
    }
    (ints.len() >= 4).then_some(ints)
}
