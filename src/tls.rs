//! The one TLS stack: rustls with the ring provider. Client configs verify certificates against
//! the bundled Mozilla roots (webpki-roots) plus an optional CA file; server configs load a PEM
//! certificate chain and key. Loading errors name the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read certificates from {path}: {reason}")]
    Certs { path: PathBuf, reason: String },
    #[error("cannot read private key from {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("{path}: no certificate found")]
    NoCert { path: PathBuf },
    #[error("invalid TLS settings: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Installs ring as the process-wide rustls provider. Call once at start; later calls are no-ops.
pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads every certificate in a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| TlsError::Certs {
            path: path.into(),
            reason: e.to_string(),
        })?
        .collect();
    let certs = certs.map_err(|e| TlsError::Certs {
        path: path.into(),
        reason: e.to_string(),
    })?;
    if certs.is_empty() {
        return Err(TlsError::NoCert { path: path.into() });
    }
    Ok(certs)
}

/// The trusted roots: Mozilla's bundle plus every certificate in `ca_file`.
pub fn root_store(ca_file: Option<&Path>) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        for cert in load_certs(path)? {
            roots.add(cert).map_err(|e| TlsError::Certs {
                path: path.into(),
                reason: e.to_string(),
            })?;
        }
    }
    Ok(roots)
}

/// A client config that verifies the server against `root_store(ca_file)`.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, TlsError> {
    let cfg = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(root_store(ca_file)?)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

/// A server config from a PEM chain and key.
pub fn server_config(cert_file: &Path, key_file: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = load_certs(cert_file)?;
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| TlsError::Key {
        path: key_file.into(),
        reason: e.to_string(),
    })?;
    let cfg = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(Arc::new(cfg))
}
