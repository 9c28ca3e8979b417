//! The signature of a canonical request: the string to sign, the HMAC-SHA256 key
//! derivation from the secret, and a constant-time comparison.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::{ALGORITHM, TERMINATOR};

type HmacSha256 = Hmac<Sha256>;

pub(super) fn string_to_sign(timestamp: &str, scope: &str, canonical: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical))
    )
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes any key size");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The hex signature: HMAC chain from "AWS4"+secret over date, region, service, terminator.
pub(super) fn signature(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
    to_sign: &str,
) -> String {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, TERMINATOR.as_bytes());
    hex::encode(hmac(&k_signing, to_sign.as_bytes()))
}

/// Equal bytes, compared in time independent of where they differ.
pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigv4_constant_time_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
