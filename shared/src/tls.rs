//! The HTTPS client for DynamoDB and SES. By default it trusts only the roots AWS endpoints
//! chain to (Amazon Root CA 1-4 and Starfield Services Root G2, compiled in): the SDK's
//! default client reads every certificate in the OS store when it is built, the largest
//! part of a cold start after the process itself (DESIGN §8, docs/BENCHMARKS.md).
//! `TLS_ROOTS=os` adds the OS store, for endpoints behind a proxy with its own CA.

use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// The roots AWS service endpoints use (https://www.amazontrust.com/repository/).
pub const AWS_ROOTS_PEM: &str = include_str!("../certs/aws-roots.pem");

/// Which certificate authorities the HTTPS client trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsRoots {
    /// The compiled-in AWS roots only.
    Aws,
    /// The AWS roots and the operating system's store.
    AwsAndOs,
}

impl TlsRoots {
    pub fn parse(raw: &str) -> Option<TlsRoots> {
        match raw.trim() {
            "aws" => Some(TlsRoots::Aws),
            "os" => Some(TlsRoots::AwsAndOs),
            _ => None,
        }
    }
}

/// The HTTPS client could not be set up (its trust store refused the roots).
#[derive(Debug, thiserror::Error)]
#[error("TLS setup: {0}")]
pub struct TlsError(String);

pub fn https_client(roots: TlsRoots) -> Result<SharedHttpClient, TlsError> {
    let trust = TrustStore::empty()
        .with_native_roots(roots == TlsRoots::AwsAndOs)
        .with_pem_certificate(AWS_ROOTS_PEM.as_bytes());
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(|e| TlsError(e.to_string()))?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    #[test]
    fn the_compiled_in_roots_are_the_five_aws_roots() {
        let certs = CertificateDer::pem_slice_iter(AWS_ROOTS_PEM.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("valid PEM");
        assert_eq!(certs.len(), 5);
        assert!(https_client(TlsRoots::Aws).is_ok());
    }

    #[test]
    fn roots_setting_is_aws_or_os() {
        assert_eq!(TlsRoots::parse("aws"), Some(TlsRoots::Aws));
        assert_eq!(TlsRoots::parse(" os "), Some(TlsRoots::AwsAndOs));
        assert_eq!(TlsRoots::parse("none"), None);
    }
}
