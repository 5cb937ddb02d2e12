//! Throw-away PKI for the mTLS integration tests.
//!
//! [`generate`] writes into a directory a CA (`ca.pem`) and, for each name, a
//! certificate (`{name}.pem`) and its private key (`{name}.key`) signed by that CA.
//! [`generate_untrusted`] writes a certificate and key signed by a different CA
//! (`{name}-ca.pem`), for the tests where a peer must be refused. Every leaf
//! certificate names `localhost` and `127.0.0.1` and is valid both as a server
//! and as a client certificate.
#![allow(dead_code)]

use std::io;
use std::path::Path;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

fn rcgen_error(error: rcgen::Error) -> io::Error {
    io::Error::other(error)
}

fn new_ca(common_name: &str) -> io::Result<(Certificate, KeyPair)> {
    let key = KeyPair::generate().map_err(rcgen_error)?;
    let mut params = CertificateParams::new(Vec::new()).map_err(rcgen_error)?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key).map_err(rcgen_error)?;
    Ok((cert, key))
}

fn write_leaf(dir: &Path, name: &str, ca: &Certificate, ca_key: &KeyPair) -> io::Result<()> {
    let key = KeyPair::generate().map_err(rcgen_error)?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .map_err(rcgen_error)?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let cert = params.signed_by(&key, ca, ca_key).map_err(rcgen_error)?;
    std::fs::write(dir.join(format!("{name}.pem")), cert.pem())?;
    std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem())
}

/// Writes `ca.pem` and, for each of `names`, `{name}.pem` and `{name}.key` signed by it.
pub(crate) fn generate(dir: &Path, names: &[&str]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let (ca, ca_key) = new_ca("xprotocol sidecar test CA")?;
    std::fs::write(dir.join("ca.pem"), ca.pem())?;
    for name in names {
        write_leaf(dir, name, &ca, &ca_key)?;
    }
    Ok(())
}

/// Writes `{name}.pem` and `{name}.key` signed by a fresh CA that [`generate`]'s
/// `ca.pem` does not trust; that CA is written to `{name}-ca.pem`.
pub(crate) fn generate_untrusted(dir: &Path, name: &str) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let (ca, ca_key) = new_ca(&format!("untrusted CA of {name}"))?;
    std::fs::write(dir.join(format!("{name}-ca.pem")), ca.pem())?;
    write_leaf(dir, name, &ca, &ca_key)
}
