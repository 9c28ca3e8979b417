//! The IAM gate of a TLS endpoint whose group has `iam` users. ElastiCache's `iam` users AUTH
//! with a short-lived SigV4-presigned token, which a redis-server cannot verify: on the nodes
//! such a user has a random internal password instead. The gate ends the client's TLS (with a
//! certificate from the server's CA for the endpoint's address), reads the client's first
//! command, and when it is `AUTH <user> <token>` or `HELLO <v> AUTH <user> <token>` for an
//! `iam` user whose token verifies, passes it on with the internal password; everything else
//! (other users, other commands, an invalid token, which the node then answers `WRONGPASS`)
//! passes unchanged. The rest of the connection is spliced to the node over TLS.
//!
//! Only the first command is read: an `iam` client re-authenticating later on the same
//! connection (ElastiCache's 12-hour re-AUTH) gets `WRONGPASS` here.

use std::net::SocketAddrV4;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::tls::{CertificateAuthority, server_name};

/// The most a client's first command may take before the gate gives up reading it (a token
/// is well under 2 KiB).
const MAX_FIRST_COMMAND: usize = 64 * 1024;

/// What the gate learns of a user and the password it AUTHs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenVerdict {
    /// Not an `iam` user: the command passes unchanged.
    NotIam,
    /// A valid token: the command goes on with this internal password.
    Valid(String),
    /// An `iam` user with an invalid or expired token: the command passes unchanged, and the
    /// node answers `WRONGPASS`.
    Invalid,
}

/// Verifies IAM auth tokens for one group (the engine knows no SigV4: the caller does).
pub trait IamTokens: Send + Sync {
    fn check(&self, user: &str, token: &str) -> TokenVerdict;
}

pub struct IamGate {
    acceptor: TlsAcceptor,
    connector: TlsConnector,
    tokens: Arc<dyn IamTokens>,
}

impl IamGate {
    /// A gate for the endpoint at `endpoint`, with a certificate from `ca` naming it.
    pub fn new(
        ca: &CertificateAuthority,
        endpoint: SocketAddrV4,
        tokens: Arc<dyn IamTokens>,
    ) -> Result<Self, String> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let (cert_pem, key_pem) = ca.node_certificate(&[*endpoint.ip()])?;
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| format!("cannot read the endpoint certificate: {e}"))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|e| format!("cannot read the endpoint key: {e}"))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| format!("cannot use the endpoint certificate: {e}"))?;
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            connector: TlsConnector::from(ca.client_config()),
            tokens,
        })
    }

    /// Serves one client connection (TLS) to `target` (a TLS node reached at `upstream`).
    pub async fn serve(&self, client: TcpStream, upstream: TcpStream, target: SocketAddrV4) {
        let Ok(mut client) = self.acceptor.accept(client).await else {
            return;
        };
        let Ok(first) = read_first_command(&mut client).await else {
            return;
        };
        let Ok(mut upstream) = self.connector.connect(server_name(target), upstream).await else {
            return;
        };
        let forwarded = match first {
            FirstBytes::Command(args, rest) => {
                let mut bytes = encode(&self.rewrite(args));
                bytes.extend_from_slice(&rest);
                bytes
            }
            FirstBytes::Other(bytes) => bytes,
        };
        if upstream.write_all(&forwarded).await.is_err() {
            return;
        }
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    }

    /// The command with a valid token replaced by the user's internal password.
    fn rewrite(&self, mut args: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        let Some((user_at, token_at)) = credential_positions(&args) else {
            return args;
        };
        let user = String::from_utf8_lossy(&args[user_at]).into_owned();
        let token = String::from_utf8_lossy(&args[token_at]).into_owned();
        if let TokenVerdict::Valid(password) = self.tokens.check(&user, &token) {
            args[token_at] = password.into_bytes();
        }
        args
    }
}

/// Where the user name and the password are in `AUTH <user> <password>` and
/// `HELLO <version> AUTH <user> <password> ...`; `None` for any other command.
fn credential_positions(args: &[Vec<u8>]) -> Option<(usize, usize)> {
    let name = args.first()?;
    if name.eq_ignore_ascii_case(b"AUTH") && args.len() == 3 {
        return Some((1, 2));
    }
    if name.eq_ignore_ascii_case(b"HELLO") {
        let at = args
            .iter()
            .skip(2)
            .position(|a| a.eq_ignore_ascii_case(b"AUTH"))?
            + 2;
        if at + 2 < args.len() {
            return Some((at + 1, at + 2));
        }
    }
    None
}

/// What the client sent first: one RESP command (and the bytes after it), or bytes that are
/// not one (an inline command, or more than [`MAX_FIRST_COMMAND`]), passed as they are.
enum FirstBytes {
    Command(Vec<Vec<u8>>, Vec<u8>),
    Other(Vec<u8>),
}

async fn read_first_command<S: AsyncRead + Unpin>(client: &mut S) -> std::io::Result<FirstBytes> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let read = client.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..read]);
        match parse_command(&buffer) {
            Parsed::Complete(args, used) => {
                return Ok(FirstBytes::Command(args, buffer.split_off(used)));
            }
            Parsed::Incomplete if buffer.len() < MAX_FIRST_COMMAND => {}
            Parsed::Incomplete | Parsed::NotResp => return Ok(FirstBytes::Other(buffer)),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    /// The command's arguments and how many bytes it took.
    Complete(Vec<Vec<u8>>, usize),
    Incomplete,
    NotResp,
}

/// Reads one RESP array of bulk strings (`*N\r\n$len\r\narg\r\n...`), as clients send commands.
fn parse_command(buffer: &[u8]) -> Parsed {
    let Some(&b'*') = buffer.first() else {
        return Parsed::NotResp;
    };
    let mut at = 1;
    let Some(count) = read_number(buffer, &mut at) else {
        return incomplete_or_not(buffer, at);
    };
    let mut args = Vec::new();
    for _ in 0..count {
        match buffer.get(at) {
            None => return Parsed::Incomplete,
            Some(b'$') => at += 1,
            Some(_) => return Parsed::NotResp,
        }
        let Some(len) = read_number(buffer, &mut at) else {
            return incomplete_or_not(buffer, at);
        };
        let end = at + len;
        if buffer.len() < end + 2 {
            return Parsed::Incomplete;
        }
        if &buffer[end..end + 2] != b"\r\n" {
            return Parsed::NotResp;
        }
        args.push(buffer[at..end].to_vec());
        at = end + 2;
    }
    Parsed::Complete(args, at)
}

/// A decimal number ended by `\r\n` at `*at`, which moves past it.
fn read_number(buffer: &[u8], at: &mut usize) -> Option<usize> {
    let rest = &buffer[*at..];
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    let number = std::str::from_utf8(&rest[..end]).ok()?.parse().ok()?;
    *at += end + 2;
    Some(number)
}

/// After a number could not be read at `at`: more bytes may complete it, unless what is there
/// is no number at all.
fn incomplete_or_not(buffer: &[u8], at: usize) -> Parsed {
    let rest = &buffer[at..];
    match rest.windows(2).any(|w| w == b"\r\n") || rest.len() > 20 {
        true => Parsed::NotResp,
        false => Parsed::Incomplete,
    }
}

fn encode(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn one_resp_command_is_read_and_written_back_the_same() {
        let command = encode(&args(&["AUTH", "me", "tok/en?x=1"]));
        let mut with_rest = command.clone();
        with_rest.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(
            parse_command(&with_rest),
            Parsed::Complete(args(&["AUTH", "me", "tok/en?x=1"]), command.len())
        );
        for cut in 1..command.len() {
            assert_eq!(parse_command(&command[..cut]), Parsed::Incomplete, "{cut}");
        }
        assert_eq!(parse_command(b"AUTH me token\r\n"), Parsed::NotResp);
        assert_eq!(parse_command(b"*x\r\n"), Parsed::NotResp);
    }

    #[test]
    fn the_credentials_of_auth_and_hello_are_found() {
        assert_eq!(
            credential_positions(&args(&["auth", "u", "p"])),
            Some((1, 2))
        );
        assert_eq!(credential_positions(&args(&["AUTH", "p"])), None);
        assert_eq!(
            credential_positions(&args(&["HELLO", "3", "AUTH", "u", "p", "SETNAME", "n"])),
            Some((3, 4))
        );
        assert_eq!(credential_positions(&args(&["HELLO", "3"])), None);
        assert_eq!(
            credential_positions(&args(&["HELLO", "3", "AUTH", "u"])),
            None
        );
        assert_eq!(credential_positions(&args(&["GET", "k"])), None);
    }
}
