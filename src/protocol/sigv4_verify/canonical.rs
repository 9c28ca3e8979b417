//! The canonical request of the SigV4 spec: method, normalized and re-encoded path, sorted
//! query, signed headers with their trimmed values, the signed header list and the payload
//! hash; and the query-string decoding it starts from.

use axum::http::HeaderMap;

/// What the canonical request is made of.
pub(super) struct CanonicalInput<'a> {
    pub(super) method: &'a str,
    /// The URI path as received, still percent-encoded.
    pub(super) path: &'a str,
    /// The decoded query parameters, in arrival order.
    pub(super) query: &'a [(Vec<u8>, Vec<u8>)],
    /// Signed in the query string: its own `X-Amz-Signature` is left out.
    pub(super) presigned: bool,
    pub(super) headers: &'a HeaderMap,
    /// The signed header names, lowercase.
    pub(super) signed: &'a [String],
    /// The signed header list exactly as the client sent it.
    pub(super) signed_headers_raw: &'a str,
    pub(super) payload_hash: &'a str,
}

/// The canonical request, as bytes (header values need not be UTF-8).
pub(super) fn canonical_request(input: &CanonicalInput<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(input.method.to_ascii_uppercase().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(input.path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(input.query, input.presigned).as_bytes());
    out.push(b'\n');
    for name in input.signed {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        let values: Vec<Vec<u8>> = input
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| trim_all(v.as_bytes()))
            .collect();
        out.extend_from_slice(&values.join(&b',')[..]);
        out.push(b'\n');
    }
    out.push(b'\n');
    // The list exactly as the client sent it (lowercase, ';'-separated, sorted).
    out.extend_from_slice(input.signed_headers_raw.trim().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(input.payload_hash.as_bytes());
    out
}

/// The path normalized (empty and `.` segments dropped, `..` applied) and each segment
/// URI-encoded once more: AWS services other than S3 sign the path as sent, encoded again.
fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::from("/");
    out.push_str(
        &segments
            .iter()
            .map(|s| uri_encode(s.as_bytes()))
            .collect::<Vec<_>>()
            .join("/"),
    );
    if path.ends_with('/') && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// Parameters sorted by encoded name then value, each decoded then RFC 3986-encoded.
/// A presigned request's own `X-Amz-Signature` is left out.
fn canonical_query(query: &[(Vec<u8>, Vec<u8>)], presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| !(presigned && k.as_slice() == b"X-Amz-Signature"))
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Splits and percent-decodes a raw query string. `+` is a space, as in the form
/// encoding the server decodes parameters with (botocore sends spaces that way).
pub(super) fn parse_query(raw: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k.as_bytes()), percent_decode(v.as_bytes()))
        })
        .collect()
}

fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'%' if i + 2 < input.len() => {
                match (hex_value(input[i + 1]), hex_value(input[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// RFC 3986: unreserved characters kept, every other byte `%XX` (uppercase).
fn uri_encode(input: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(input.len() * 3);
    for &b in input {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        }
    }
    out
}

/// Trims a header value and collapses inner runs of whitespace to one space.
fn trim_all(value: &[u8]) -> Vec<u8> {
    value
        .split(|b| b.is_ascii_whitespace())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(&b' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::sigv4_verify::test_support::*;

    #[test]
    fn sigv4_get_vanilla_test_vector() {
        let h = vanilla(&auth("host;x-amz-date", GET_VANILLA_SIG));
        assert_eq!(check(&verifier(), "GET", "/", None, &h, b""), Ok(()));
        let who = verifier()
            .authenticate("GET", "/", None, &h, b"", at())
            .unwrap();
        assert_eq!(who.access_key_id, AKID);
        assert_eq!(who.region, "us-east-1");
        assert_eq!(who.service, "service");
    }

    #[test]
    fn sigv4_post_x_www_form_urlencoded_test_vector() {
        let h = headers(&[
            ("content-type", "application/x-www-form-urlencoded"),
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                &auth(
                    "content-type;host;x-amz-date",
                    "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
                ),
            ),
        ]);
        assert_eq!(
            check(&verifier(), "POST", "/", None, &h, b"Param1=value1"),
            Ok(())
        );
        // The body is signed: another body fails.
        assert!(matches!(
            check(&verifier(), "POST", "/", None, &h, b"Param1=value2"),
            Err(ApiError::SignatureDoesNotMatch(_))
        ));
    }

    #[test]
    fn sigv4_query_test_vectors() {
        let cases = [
            (
                "Param2=value2&Param1=value1",
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            ),
            (
                "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
            ),
            (
                "%E1%88%B4=bar",
                "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
            ),
        ];
        for (query, sig) in cases {
            let h = vanilla(&auth("host;x-amz-date", sig));
            assert_eq!(
                check(&verifier(), "GET", "/", Some(query), &h, b""),
                Ok(()),
                "{query}"
            );
        }
        // post-vanilla-query-nonunreserved: reserved characters, `+` sent as %2B.
        let h = vanilla(&auth(
            "host;x-amz-date",
            "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e",
        ));
        let query = "%40%23%24%25%5E=&%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D";
        assert_eq!(
            check(&verifier(), "POST", "/", Some(query), &h, b""),
            Ok(())
        );
    }

    #[test]
    fn sigv4_path_test_vectors() {
        let cases = [
            (
                "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
            ),
            (
                "/ሴ",
                "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
            ),
            // Normalization: these all sign as "/".
            ("//", GET_VANILLA_SIG),
            ("/./", GET_VANILLA_SIG),
            ("/example/..", GET_VANILLA_SIG),
            ("", GET_VANILLA_SIG),
        ];
        for (path, sig) in cases {
            let h = vanilla(&auth("host;x-amz-date", sig));
            assert_eq!(
                check(&verifier(), "GET", path, None, &h, b""),
                Ok(()),
                "{path}"
            );
        }
    }

    #[test]
    fn sigv4_header_value_trim_and_duplicates() {
        // get-header-value-trim
        let h = headers(&[
            ("host", "example.amazonaws.com"),
            ("my-header1", " value1"),
            ("my-header2", "\"a   b   c\""),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                &auth(
                    "host;my-header1;my-header2;x-amz-date",
                    "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
                ),
            ),
        ]);
        assert_eq!(check(&verifier(), "GET", "/", None, &h, b""), Ok(()));
        // get-header-value-order: repeated headers joined with ',' in arrival order.
        let h = headers(&[
            ("host", "example.amazonaws.com"),
            ("my-header1", "value4"),
            ("my-header1", "value1"),
            ("my-header1", "value3"),
            ("my-header1", "value2"),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                &auth(
                    "host;my-header1;x-amz-date",
                    "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
                ),
            ),
        ]);
        assert_eq!(check(&verifier(), "GET", "/", None, &h, b""), Ok(()));
    }

    #[test]
    fn sigv4_canonical_helpers() {
        assert_eq!(canonical_uri("/example space/"), "/example%20space/");
        assert_eq!(canonical_uri("/a%20b"), "/a%2520b");
        assert_eq!(canonical_uri("//example//"), "/example/");
        assert_eq!(
            canonical_query(&parse_query("b=2&a=2&a=1&c&d=x+y%2Bz&e=%zz"), false),
            "a=1&a=2&b=2&c=&d=x%20y%2Bz&e=%25zz"
        );
        assert_eq!(trim_all(b"  a \t b  "), b"a b".to_vec());
        assert_eq!(percent_decode(b"%4"), b"%4".to_vec());
    }
}
