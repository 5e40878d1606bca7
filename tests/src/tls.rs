//! A private certificate authority for TLS tests: its certificate (what a console is told to
//! trust) and a server certificate it signs for `localhost` and `127.0.0.1` (what a relay
//! serves), written as PEM files. [`TestPki::renew`] replaces the server's pair in place, as a
//! certificate renewal does.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A test CA and the server certificate it issued last.
pub struct TestPki {
    ca: CertifiedIssuer<'static, KeyPair>,
    dir: PathBuf,
    serial: u64,
    server_der: Vec<u8>,
}

impl TestPki {
    /// A new CA in `dir` (`ca.pem`) and a first server pair (`cert.pem`, `key.pem`).
    pub fn new(dir: &Path) -> Self {
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "linedesk test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key"))
            .expect("CA certificate");
        std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write ca.pem");
        let mut pki = Self {
            ca,
            dir: dir.to_owned(),
            serial: 0,
            server_der: Vec::new(),
        };
        pki.renew();
        pki
    }

    /// Issues a new server certificate (new key, next serial) and writes it over `cert.pem`
    /// and `key.pem`; answers its DER, as a TLS client sees it.
    pub fn renew(&mut self) -> Vec<u8> {
        self.serial += 1;
        let key = KeyPair::generate().expect("server key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server names");
        params
            .distinguished_name
            .push(DnType::CommonName, "linedesk test relay");
        params.serial_number = Some(self.serial.into());
        let issuer: &Issuer<'static, KeyPair> = &self.ca;
        let cert = params.signed_by(&key, issuer).expect("server certificate");
        // The key first: a relay that looks between the two writes sees a mismatch and keeps
        // the old pair, then loads the new one once the certificate lands.
        std::fs::write(self.key_file(), key.serialize_pem()).expect("write key.pem");
        std::fs::write(self.cert_file(), cert.pem()).expect("write cert.pem");
        self.server_der = cert.der().to_vec();
        self.server_der.clone()
    }

    /// The CA's certificate file (what a console trusts).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The CA's certificate, PEM.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// The server's certificate chain file.
    pub fn cert_file(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    /// The server's private key file (PKCS#8).
    pub fn key_file(&self) -> PathBuf {
        self.dir.join("key.pem")
    }

    /// The DER of the server certificate issued last.
    pub fn server_der(&self) -> &[u8] {
        &self.server_der
    }
}
