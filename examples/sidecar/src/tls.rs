//! Mutual TLS between sidecars.
//!
//! The HTTP/2 hop between sidecars can run over TLS with mutual authentication,
//! as service meshes do: each sidecar presents a certificate chain from a PEM
//! file and accepts only peers whose certificate chains to a shared CA bundle.
//! Both sides offer ALPN `h2`. The `ring` provider is passed explicitly, so no
//! process-wide default provider is needed.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// ALPN protocol identifier offered and required on the sidecar-to-sidecar hop.
pub const ALPN_H2: &[u8] = b"h2";

/// PEM files of one sidecar's TLS identity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// Certificate chain presented to peers, leaf first.
    pub cert: PathBuf,
    /// Private key of the leaf certificate (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA bundle that peer certificates must chain to.
    pub ca: PathBuf,
}

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A file holds a PEM section that cannot be decoded.
    #[error("cannot parse PEM in {}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The decoding error.
        source: io::Error,
    },
    /// A certificate or CA file holds no certificate.
    #[error("no certificate in {}", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// A key file holds no private key.
    #[error("no private key in {}", path.display())]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// A CA file holds a certificate that cannot be used as a trust anchor.
    #[error("invalid CA certificate in {}: {source}", path.display())]
    InvalidCa {
        /// The file.
        path: PathBuf,
        /// Why rustls rejected it.
        source: rustls::Error,
    },
    /// The client certificate verifier could not be built.
    #[error("cannot build the client certificate verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    /// rustls rejected the configuration (for example a key that does not match the certificate).
    #[error("invalid TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

fn read_pem(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_pem(path)?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Parse {
            path: path.to_owned(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read_pem(path)?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|source| TlsError::Parse {
            path: path.to_owned(),
            source,
        })?
        .ok_or_else(|| TlsError::NoPrivateKey {
            path: path.to_owned(),
        })
}

fn load_roots(path: &Path) -> Result<Arc<RootCertStore>, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(path)? {
        roots.add(cert).map_err(|source| TlsError::InvalidCa {
            path: path.to_owned(),
            source,
        })?;
    }
    Ok(Arc::new(roots))
}

fn ring_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Server side of the hop: presents `cert`/`key`, requires a client certificate
/// chaining to `ca`, and offers ALPN `h2`.
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let (certs, key) = (load_certs(&files.cert)?, load_key(&files.key)?);
    let provider = ring_provider();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(load_roots(&files.ca)?, Arc::clone(&provider))
            .build()?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

/// Client side of the hop: trusts only `ca`, presents `cert`/`key`, and offers ALPN `h2`.
pub fn client_config(files: &TlsFiles) -> Result<Arc<ClientConfig>, TlsError> {
    let (certs, key) = (load_certs(&files.cert)?, load_key(&files.key)?);
    let mut config = ClientConfig::builder_with_provider(ring_provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(load_roots(&files.ca)?)
        .with_client_auth_cert(certs, key)?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

/// Test certificates, shared with the integration tests.
#[cfg(test)]
#[path = "../tests/support/pki.rs"]
mod test_pki;

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_rustls::{TlsAcceptor, TlsConnector, client, server};

    /// Throw-away PKI in a temporary directory: `ca.pem`, `peer.{pem,key}` signed
    /// by it, and `rogue.{pem,key}` signed by another CA.
    struct TestPki {
        dir: PathBuf,
    }

    impl TestPki {
        fn new(test: &str) -> Self {
            let dir = format!("sidecar-tls-{}-{test}", std::process::id());
            let dir = std::env::temp_dir().join(dir);
            test_pki::generate(&dir, &["peer"]).unwrap();
            test_pki::generate_untrusted(&dir, "rogue").unwrap();
            Self { dir }
        }

        fn files(&self, name: &str) -> TlsFiles {
            TlsFiles {
                cert: self.dir.join(format!("{name}.pem")),
                key: self.dir.join(format!("{name}.key")),
                ca: self.dir.join("ca.pem"),
            }
        }
    }

    impl Drop for TestPki {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    type ClientStream = client::TlsStream<TcpStream>;
    type ServerStream = server::TlsStream<TcpStream>;

    async fn handshake(
        server: Arc<ServerConfig>,
        client: Arc<ClientConfig>,
    ) -> (io::Result<ServerStream>, io::Result<ClientStream>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server_side = async {
            let (tcp, _) = listener.accept().await?;
            TlsAcceptor::from(server).accept(tcp).await
        };
        let client_side = async {
            let tcp = TcpStream::connect(addr).await?;
            let name = ServerName::try_from("localhost").unwrap();
            TlsConnector::from(client).connect(name, tcp).await
        };
        tokio::join!(server_side, client_side)
    }

    /// The rustls error inside a failed handshake's I/O error.
    fn rustls_error(error: Option<io::Error>) -> Option<rustls::Error> {
        error?
            .into_inner()?
            .downcast::<rustls::Error>()
            .ok()
            .map(|error| *error)
    }

    /// After the server refused it, the client fails at the latest on its first read.
    async fn assert_client_sees_error(client: io::Result<ClientStream>) {
        if let Ok(mut stream) = client {
            let write = stream.write_all(b"ping").await.and(stream.flush().await);
            let read = stream.read(&mut [0u8; 16]).await;
            assert!(
                write.is_err() || read.is_err(),
                "client saw no error: {read:?}"
            );
        }
    }

    #[tokio::test]
    async fn trusted_peers_complete_handshake_with_h2() {
        let pki = TestPki::new("trusted");
        let files = pki.files("peer");
        let (server, client) = handshake(
            server_config(&files).unwrap(),
            client_config(&files).unwrap(),
        )
        .await;
        let (mut server, mut client) = (server.unwrap(), client.unwrap());
        assert_eq!(client.get_ref().1.alpn_protocol(), Some(ALPN_H2));
        assert_eq!(server.get_ref().1.alpn_protocol(), Some(ALPN_H2));
        assert_eq!(
            server.get_ref().1.peer_certificates().map(<[_]>::len),
            Some(1)
        );
        client.write_all(b"ping").await.unwrap();
        client.flush().await.unwrap();
        let mut received = [0u8; 4];
        server.read_exact(&mut received).await.unwrap();
        assert_eq!(&received, b"ping");
    }

    #[tokio::test]
    async fn server_refuses_client_signed_by_another_ca() {
        let pki = TestPki::new("rogue-client");
        let server_cfg = server_config(&pki.files("peer")).unwrap();
        let (server, client) =
            handshake(server_cfg, client_config(&pki.files("rogue")).unwrap()).await;
        let unknown_issuer =
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert_eq!(rustls_error(server.err()), Some(unknown_issuer));
        assert_client_sees_error(client).await;
    }

    #[tokio::test]
    async fn server_refuses_client_without_certificate() {
        let pki = TestPki::new("anonymous-client");
        let files = pki.files("peer");
        let mut anonymous = ClientConfig::builder_with_provider(ring_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(load_roots(&files.ca).unwrap())
            .with_no_client_auth();
        anonymous.alpn_protocols = vec![ALPN_H2.to_vec()];
        let (server, client) = handshake(server_config(&files).unwrap(), Arc::new(anonymous)).await;
        assert_eq!(
            rustls_error(server.err()),
            Some(rustls::Error::NoCertificatesPresented)
        );
        assert_client_sees_error(client).await;
    }

    #[tokio::test]
    async fn client_refuses_server_not_chained_to_ca() {
        let pki = TestPki::new("rogue-server");
        let server_cfg = server_config(&pki.files("rogue")).unwrap();
        let (server, client) =
            handshake(server_cfg, client_config(&pki.files("peer")).unwrap()).await;
        let unknown_issuer =
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert_eq!(rustls_error(client.err()), Some(unknown_issuer));
        assert!(server.is_err());
    }

    /// Both configs fail on `files` with a message starting with `expected` and naming `path`.
    fn assert_fails(files: &TlsFiles, expected: &str, path: &Path) {
        for error in [
            server_config(files).unwrap_err(),
            client_config(files).unwrap_err(),
        ] {
            let message = error.to_string();
            assert!(message.starts_with(expected), "{message}");
            assert!(message.contains(&path.display().to_string()), "{message}");
        }
    }

    #[test]
    fn bad_files_are_reported_with_their_path() {
        let pki = TestPki::new("bad-files");
        let (garbage, bad_base64) = (pki.dir.join("garbage.pem"), pki.dir.join("base64.pem"));
        std::fs::write(&garbage, "not a PEM file\n").unwrap();
        let pem = "-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n";
        std::fs::write(&bad_base64, pem).unwrap();
        let missing = pki.dir.join("missing.pem");
        let mut files = pki.files("peer");
        files.cert.clone_from(&missing);
        assert_fails(&files, "cannot read", &missing);
        files.cert.clone_from(&garbage);
        assert_fails(&files, "no certificate in", &garbage);
        files.cert.clone_from(&bad_base64);
        assert_fails(&files, "cannot parse PEM in", &bad_base64);
        let mut files = pki.files("peer");
        files.ca.clone_from(&garbage);
        assert_fails(&files, "no certificate in", &garbage);
        let mut files = pki.files("peer");
        files.key.clone_from(&files.cert);
        assert_fails(&files, "no private key in", &files.cert);
        // A key that does not belong to the certificate is a rustls error.
        files.key = pki.files("rogue").key;
        assert!(matches!(server_config(&files), Err(TlsError::Rustls(_))));
        assert!(matches!(client_config(&files), Err(TlsError::Rustls(_))));
    }

    #[test]
    fn tls_files_reject_unknown_fields() {
        let files: TlsFiles =
            toml::from_str("cert = 'a.pem'\nkey = 'a.key'\nca = 'ca.pem'").unwrap();
        assert_eq!(files.key, PathBuf::from("a.key"));
        assert!(toml::from_str::<TlsFiles>("cert = 'a'\nkey = 'b'\nca = 'c'\nkeys = 'd'").is_err());
    }
}
