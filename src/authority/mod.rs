//! kyso's certification authority at work: issuing certificates for units,
//! leaders and time-stamping from the issuing CA, importing certificates an
//! outside CA issued (with their keys), revoking, publishing the CRLs, and
//! keeping the server's signers in step with the certificate register in the
//! records database.
//!
//! This is the async layer between the gRPC edge and the pure parts it puts
//! together: [`crate::ca`] (rcgen), [`crate::custody`] (keys sealed under the
//! key-encryption key), [`crate::hsm`] (PKCS#11 tokens) and
//! [`crate::records`] (the register). Key generation, sealing and token calls
//! run on the blocking pool.
//!
//! Time of signing. kyso writes the SHA-256 of every signature value it makes
//! into the records, in the transaction that acknowledges the signing
//! ([`crate::records::AppliedSignature::signature_sha256`]). That entry is
//! kyso's own proof that the signature existed at that time: Verify uses it so
//! that a certificate revoked later does not undo signatures made before the
//! revocation ([`Authority::signed_at`]).

mod error;
mod init;
mod publish;
mod signers;
mod tokens;

pub use error::AuthorityError;
pub use init::{InitReport, init_authority};
pub use tokens::Tokens;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use zeroize::Zeroizing;

use crate::ca::{
    self, CertificateAuthority, CertificateRole, DevPki, KeyAlgorithm, LeafKey, Profile,
    Publication, RevocationReason,
};
use crate::chain::TrustAnchors;
use crate::cms::CertificateInfo;
use crate::crypto::RsaPadding;
use crate::custody::{self, KeyEncryptionKey};
use crate::keyfile;
use crate::keystore::KeyStore;
use crate::records::{
    CertificateFilter, CertificateOrigin, CertificateRecord, KeyCustody, RecordStore,
    RevokeOutcome, StoredCrl,
};
use crate::units::UnitCode;

/// The name of kyso's issuing CA in URLs and the register.
pub const ISSUING_CA: &str = "issuing";
/// The name of kyso's root CA in URLs.
pub const ROOT_CA: &str = "root";

/// How long a CRL is valid (nextUpdate − thisUpdate).
pub const CRL_VALIDITY: Duration = Duration::from_secs(24 * 60 * 60);
/// A CRL is published again when less than this is left before its nextUpdate.
pub const CRL_REFRESH_MARGIN: Duration = Duration::from_secs(6 * 60 * 60);

/// Where a new certificate's key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// kyso generates the key and keeps it sealed under its key-encryption key.
    Generate(KeyAlgorithm),
    /// A configured PKCS#11 token generates and keeps the key.
    Token {
        /// The token's configured name.
        token: String,
        /// The new key's label on the token.
        key_label: String,
        /// The key's algorithm.
        algorithm: KeyAlgorithm,
    },
    /// A DER PKCS#10 request: the key stays with whoever made the request.
    Request(Vec<u8>),
}

/// What to import: a certificate from an outside CA with its key.
pub enum ImportMaterial {
    /// A PKCS#12 file and its password.
    Pkcs12 {
        /// The file's bytes.
        file: Vec<u8>,
        /// Its password.
        password: Zeroizing<String>,
    },
    /// PEM certificates (the signer's first) and a PEM PKCS#8 key.
    Pem {
        /// The certificates.
        certificates: Vec<u8>,
        /// The key.
        private_key: Zeroizing<Vec<u8>>,
    },
}

/// A certificate after revocation.
#[derive(Debug, Clone)]
pub struct Revoked {
    /// The certificate as registered now.
    pub certificate: CertificateRecord,
    /// False when it had already been revoked (the first revocation stands).
    pub newly_revoked: bool,
    /// The CRL listing it (certificates of kyso's CAs).
    pub crl: Option<StoredCrl>,
}

/// kyso's CA, its register and the signers that follow from it.
pub struct Authority {
    store: RecordStore,
    keys: Arc<KeyStore>,
    kek: Arc<KeyEncryptionKey>,
    issuing: Arc<CertificateAuthority>,
    root: Arc<CertificateAuthority>,
    /// The issuing CA's and the root's certificates, DER: every issued
    /// certificate's chain.
    issuers: Vec<Vec<u8>>,
    tokens: Tokens,
    rsa_padding: RsaPadding,
    anchors: Arc<TrustAnchors>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("issuing", &self.issuing)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

/// What [`Authority::open`] needs.
pub struct AuthoritySetup<'a> {
    /// The data directory holding the CA (`pki/`).
    pub data_dir: &'a std::path::Path,
    /// The records database.
    pub store: RecordStore,
    /// The server's signers.
    pub keys: Arc<KeyStore>,
    /// The key-encryption key.
    pub kek: KeyEncryptionKey,
    /// The configured tokens.
    pub tokens: Tokens,
    /// Padding of RSA signatures.
    pub rsa_padding: RsaPadding,
    /// Anchors imported certificates must chain to.
    pub anchors: Arc<TrustAnchors>,
    /// Base URL of the HTTP endpoints (CRLs, CA certificates).
    pub public_url: &'a str,
}

impl Authority {
    /// Loads the root and issuing CA from the data directory, publishing at
    /// `public_url`.
    pub fn open(setup: AuthoritySetup<'_>) -> Result<Self, AuthorityError> {
        let pki = DevPki::new(setup.data_dir);
        let mut issuing = pki.load_issuing_ca_with_kek(&setup.kek)?;
        let root_key = pki.unseal_key(&pki.root_key_path(), &setup.kek)?;
        let root_pem = std::fs::read_to_string(pki.root_certificate_path()).map_err(|source| {
            AuthorityError::Io {
                path: pki.root_certificate_path(),
                source,
            }
        })?;
        let root_key_pem = Zeroizing::new(keyfile::encode_pem("PRIVATE KEY", &root_key));
        let mut root = CertificateAuthority::from_pem(&root_pem, &root_key_pem)?;
        issuing.set_publication(Some(Publication::at(setup.public_url, ISSUING_CA)));
        root.set_publication(Some(Publication::at(setup.public_url, ROOT_CA)));
        let issuers = vec![
            issuing.certificate_der().to_vec(),
            root.certificate_der().to_vec(),
        ];
        Ok(Self {
            store: setup.store,
            keys: setup.keys,
            kek: Arc::new(setup.kek),
            issuing: Arc::new(issuing),
            root: Arc::new(root),
            issuers,
            tokens: setup.tokens,
            rsa_padding: setup.rsa_padding,
            anchors: setup.anchors,
        })
    }

    /// A CA's certificate, DER, by name (`issuing` or `root`).
    pub fn ca_certificate(&self, name: &str) -> Option<&[u8]> {
        match name {
            ISSUING_CA => Some(self.issuing.certificate_der()),
            ROOT_CA => Some(self.root.certificate_der()),
            _ => None,
        }
    }

    /// Issues a certificate from the issuing CA for `role` in `unit` and
    /// registers it; one whose key kyso or a token holds becomes the unit's
    /// signer for that role at once.
    pub async fn issue(
        &self,
        unit: &UnitCode,
        role: &CertificateRole,
        key: KeySource,
        now: SystemTime,
    ) -> Result<CertificateRecord, AuthorityError> {
        let registry = self.store.units().await?;
        let registered = registry
            .find(unit)
            .ok_or_else(|| AuthorityError::UnknownUnit {
                unit: unit.to_string(),
            })?
            .clone();
        let leader = match role {
            CertificateRole::Leader(id) => Some(
                registered
                    .leader(id)
                    .ok_or_else(|| AuthorityError::UnknownLeader {
                        unit: unit.to_string(),
                        leader: id.to_string(),
                    })?
                    .clone(),
            ),
            CertificateRole::Organisation | CertificateRole::TimeStamping => None,
        };
        let issuing = self.issuing.clone();
        let tokens = self.tokens.clone();
        let kek = self.kek.clone();
        let rsa_padding = self.rsa_padding;
        let role_for_task = role.clone();
        let (certified, custody, token_key) = blocking(move || {
            let profile = match (&role_for_task, &leader) {
                (CertificateRole::Leader(_), Some(leader)) => Profile::Personal {
                    unit: &registered,
                    leader,
                },
                (CertificateRole::TimeStamping, _) => Profile::TimeStamping { unit: &registered },
                _ => Profile::Organisation { unit: &registered },
            };
            match key {
                KeySource::Generate(algorithm) => {
                    let certified = issuing.issue(profile, LeafKey::Generate(algorithm), now)?;
                    let fingerprint = fingerprint(&certified.certificate_der);
                    let armoured = custody::seal(
                        &kek,
                        &sealing_purpose(&fingerprint),
                        &certified.private_key_pkcs8_der,
                    )?;
                    Ok((certified, KeyCustody::Sealed { armoured }, None))
                }
                KeySource::Token {
                    token,
                    key_label,
                    algorithm,
                } => {
                    let opened = tokens.open(&token)?;
                    let key = opened.generate_key(
                        &key_label,
                        tokens::key_spec(algorithm)?,
                        rsa_padding,
                    )?;
                    let public_key = crate::crypto::SigningKey::public_key_bytes(&key).to_vec();
                    let certified = issuing.issue(
                        profile,
                        LeafKey::External {
                            public_key,
                            algorithm,
                        },
                        now,
                    )?;
                    let key: Arc<dyn crate::crypto::SigningKey> = Arc::new(key);
                    Ok((certified, KeyCustody::Token { token, key_label }, Some(key)))
                }
                KeySource::Request(der) => {
                    let certified = issuing.issue(profile, LeafKey::Request { der }, now)?;
                    Ok((certified, KeyCustody::External, None))
                }
            }
        })
        .await?;
        let record = CertificateRecord {
            issuer_ca: Some(ISSUING_CA.to_string()),
            unit: Some(unit.clone()),
            role: role.clone(),
            chain_der: self.issuers.clone(),
            ..registration(
                &certified.certificate_der,
                custody,
                CertificateOrigin::Issued,
                now,
            )?
        };
        self.store.add_certificate(&record).await?;
        let key = match (&record.custody, token_key) {
            (KeyCustody::Sealed { .. }, _) => Some(crate::keyfile::private_key_from_pkcs8(
                &certified.private_key_pkcs8_der,
                std::path::Path::new("issued key"),
                self.rsa_padding,
            )?),
            (_, token_key) => token_key,
        };
        if let Some(key) = key {
            self.install(&record, key)?;
        }
        Ok(record)
    }

    /// Imports a certificate an outside CA issued, with its key, after
    /// [`ca::check_import`]'s checks, seals the key, registers it and makes it
    /// the unit's signer for `role`.
    pub async fn import(
        &self,
        unit: &UnitCode,
        role: &CertificateRole,
        material: ImportMaterial,
        now: SystemTime,
    ) -> Result<CertificateRecord, AuthorityError> {
        let registry = self.store.units().await?;
        let registered = registry
            .find(unit)
            .ok_or_else(|| AuthorityError::UnknownUnit {
                unit: unit.to_string(),
            })?;
        match role {
            CertificateRole::Leader(id) if registered.leader(id).is_none() => {
                return Err(AuthorityError::UnknownLeader {
                    unit: unit.to_string(),
                    leader: id.to_string(),
                });
            }
            CertificateRole::TimeStamping => {
                return Err(AuthorityError::ImportRole);
            }
            CertificateRole::Leader(_) | CertificateRole::Organisation => {}
        }
        let anchors = self.anchors.clone();
        let kek = self.kek.clone();
        let (identity, armoured) = blocking(move || {
            let (certificates, key) = match material {
                ImportMaterial::Pkcs12 { file, password } => ca::read_pkcs12(&file, &password)?,
                ImportMaterial::Pem {
                    certificates,
                    private_key,
                } => ca::read_pem(&certificates, &private_key)?,
            };
            let identity = ca::check_import(certificates, key, &anchors, now)?;
            let fingerprint = fingerprint(&identity.certificate_der);
            let armoured = custody::seal(
                &kek,
                &sealing_purpose(&fingerprint),
                &identity.private_key_pkcs8_der,
            )?;
            Ok((identity, armoured))
        })
        .await?;
        let record = CertificateRecord {
            issuer_ca: None,
            unit: Some(unit.clone()),
            role: role.clone(),
            chain_der: identity.chain_der.clone(),
            ..registration(
                &identity.certificate_der,
                KeyCustody::Sealed { armoured },
                CertificateOrigin::Imported,
                now,
            )?
        };
        self.store.add_certificate(&record).await?;
        let key = keyfile::private_key_from_pkcs8(
            &identity.private_key_pkcs8_der,
            std::path::Path::new("imported key"),
            self.rsa_padding,
        )?;
        self.install(&record, key)?;
        Ok(record)
    }

    /// Registered certificates matching `filter`.
    pub async fn list(
        &self,
        filter: &CertificateFilter,
    ) -> Result<Vec<CertificateRecord>, AuthorityError> {
        Ok(self.store.certificates(filter).await?)
    }

    /// Finds a registered certificate by fingerprint, or by serial number
    /// among the issuing CA's certificates.
    pub async fn find(&self, id: &str) -> Result<CertificateRecord, AuthorityError> {
        let id = id.trim();
        let lower = id.to_ascii_lowercase();
        if lower.len() == 64
            && lower.bytes().all(|b| b.is_ascii_hexdigit())
            && let Some(record) = self.store.certificate(&lower).await?
        {
            return Ok(record);
        }
        let serial: String = id
            .chars()
            .filter(|c| *c != ':')
            .collect::<String>()
            .to_ascii_uppercase();
        let padded = if serial.len() % 2 == 1 {
            format!("0{serial}")
        } else {
            serial
        };
        if let Some(record) = self
            .store
            .certificate_by_serial(ISSUING_CA, &padded)
            .await?
        {
            return Ok(record);
        }
        Err(AuthorityError::UnknownCertificate { id: id.to_string() })
    }

    /// Revokes the certificate `id` (fingerprint or serial) as of `at`
    /// (now when `None`; never in the future) and publishes its CA's new CRL.
    /// Signing with it is refused from then on
    /// ([`check_not_revoked`](Self::check_not_revoked)).
    pub async fn revoke(
        &self,
        id: &str,
        reason: RevocationReason,
        at: Option<SystemTime>,
        now: SystemTime,
    ) -> Result<Revoked, AuthorityError> {
        let at = at.unwrap_or(now);
        if at > now {
            return Err(AuthorityError::RevocationInFuture { at });
        }
        let found = self.find(id).await?;
        let (certificate, newly_revoked) = match self
            .store
            .revoke_certificate(&found.fingerprint, at, reason, now)
            .await?
        {
            RevokeOutcome::Revoked(record) => (record, true),
            RevokeOutcome::AlreadyRevoked(record) => (record, false),
            RevokeOutcome::NotFound => {
                return Err(AuthorityError::UnknownCertificate { id: id.to_string() });
            }
        };
        let crl = match certificate.issuer_ca.as_deref() {
            Some(name) if newly_revoked => Some(self.publish_crl(name, now).await?),
            Some(name) => self.store.latest_crl(name).await?,
            None => None,
        };
        Ok(Revoked {
            certificate,
            newly_revoked,
            crl,
        })
    }

    /// Refuses a signer certificate the register lists as revoked. A
    /// certificate the register does not know is the caller's to judge.
    pub async fn check_not_revoked(&self, fingerprint: &str) -> Result<(), AuthorityError> {
        match self.store.certificate(fingerprint).await? {
            Some(record) => match record.revocation {
                Some(revocation) => Err(AuthorityError::Revoked {
                    subject: record.subject,
                    at: revocation.at,
                    reason: revocation.reason,
                }),
                None => Ok(()),
            },
            None => Ok(()),
        }
    }

    /// When kyso made the signature whose value has this SHA-256 (lower-case
    /// hex) with the certificate of serial `certificate_serial`, from its own
    /// records; `None` when kyso did not make it (with that certificate).
    pub async fn signed_at(
        &self,
        signature_sha256: &str,
        certificate_serial: &str,
    ) -> Result<Option<SystemTime>, AuthorityError> {
        Ok(self
            .store
            .signature_evidence(signature_sha256)
            .await?
            .filter(|evidence| {
                evidence
                    .certificate_serial
                    .eq_ignore_ascii_case(certificate_serial)
            })
            .map(|evidence| evidence.signed_at))
    }
}

/// The register's entry for a certificate, with the facts read from its DER;
/// issuer CA, unit, role and chain are the caller's to fill in (here: none,
/// an organisation, no chain).
pub(crate) fn registration(
    certificate_der: &[u8],
    custody: KeyCustody,
    origin: CertificateOrigin,
    now: SystemTime,
) -> Result<CertificateRecord, AuthorityError> {
    let info = CertificateInfo::from_der(certificate_der)
        .map_err(|error| AuthorityError::Internal(error.to_string()))?;
    Ok(CertificateRecord {
        fingerprint: fingerprint(certificate_der),
        issuer_ca: None,
        serial: info.serial_hex,
        subject: info.subject,
        unit: None,
        role: CertificateRole::Organisation,
        key_algorithm: crate::sign::describe_key(certificate_der)?,
        custody,
        origin,
        not_before: info.not_before,
        not_after: info.not_after,
        registered_at: now,
        certificate_der: certificate_der.to_vec(),
        chain_der: Vec::new(),
        revocation: None,
    })
}

/// SHA-256 of a certificate's DER, lower-case hex: its id in the register.
pub fn fingerprint(certificate_der: &[u8]) -> String {
    CertificateRecord::fingerprint_of(certificate_der)
}

/// What a key registered with its certificate is sealed for: the sealed
/// text only opens as the key of that certificate.
pub fn sealing_purpose(fingerprint: &str) -> String {
    format!("certificate {fingerprint}")
}

/// Runs slow synchronous work (key generation, tokens, sealing) on the
/// blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AuthorityError> + Send + 'static,
) -> Result<T, AuthorityError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| AuthorityError::Internal(format!("a CA task failed: {error}")))?
}
