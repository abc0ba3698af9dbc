//! A throw-away PKI for loopback links: a CA and one node certificate it
//! signed, valid for `127.0.0.1` both as an IP address and as a DNS name
//! (OTP's TLS distribution checks the host name against DNS names only;
//! see `shared/PERF-NOTES.md`). Made fresh for every run, never stored
//! beyond the run's temporary directory.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::PerfError;

/// The CA and the node certificate, in DER and PEM.
#[derive(Debug)]
pub struct Pki {
    pub ca_der: CertificateDer<'static>,
    pub ca_pem: String,
    pub cert_der: CertificateDer<'static>,
    pub cert_pem: String,
    key_der: Vec<u8>,
    pub key_pem: String,
}

impl Pki {
    /// A fresh CA and node certificate for `127.0.0.1`.
    pub fn loopback() -> Result<Pki, PerfError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // Distinct subject names: with rcgen's default name on both, OTP
        // takes the node certificate for a self-signed one and refuses it.
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "mesh-perf throw-away CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.subject_alt_names = vec![
            SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()),
            SanType::DnsName("127.0.0.1".try_into()?),
        ];
        params
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        let cert = params.signed_by(&key, &ca)?;
        Ok(Pki {
            ca_der: ca.der().clone(),
            ca_pem: ca.pem(),
            cert_der: cert.der().clone(),
            cert_pem: cert.pem(),
            key_der: key.serialize_der(),
            key_pem: key.serialize_pem(),
        })
    }

    /// The node's private key, for rustls.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key_der.clone().into())
    }
}
