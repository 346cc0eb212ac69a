//! Keeping the server's signers in step with the register: the development
//! PKI's certificates are registered at start, certificates issued or
//! imported later become their unit's signer, and revoked ones stop signing.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use super::{Authority, AuthorityError, ISSUING_CA, fingerprint, sealing_purpose};
use crate::ca::{CertificateRole, DevPki};
use crate::crypto::SigningKey;
use crate::custody;
use crate::keyfile;
use crate::keystore::SignerRole;
use crate::records::{CertificateFilter, CertificateOrigin, CertificateRecord, KeyCustody};
use crate::sign::Signer;
use crate::units::UnitRegistry;

impl Authority {
    /// Registers every organisation and leader certificate of the
    /// development PKI in `data_dir` that the register does not hold yet;
    /// returns how many were added.
    pub async fn register_development_certificates(
        &self,
        data_dir: &Path,
        registry: &UnitRegistry,
        now: SystemTime,
    ) -> Result<usize, AuthorityError> {
        let layout = DevPki::new(data_dir);
        let known: HashSet<String> = self
            .store
            .certificates(&CertificateFilter::all(now))
            .await?
            .into_iter()
            .map(|record| record.fingerprint)
            .collect();
        let mut added = 0;
        for unit in registry.units() {
            let mut files = vec![(
                CertificateRole::Organisation,
                layout.organisation_certificate_path(&unit.code),
            )];
            files.extend(unit.leaders.iter().map(|leader| {
                (
                    CertificateRole::Leader(leader.id.clone()),
                    layout.leader_certificate_path(&unit.code, &leader.id),
                )
            }));
            for (role, path) in files {
                if !path.exists() {
                    continue;
                }
                let Some(der) = keyfile::read_certificates(&path)?.into_iter().next() else {
                    continue;
                };
                if known.contains(&fingerprint(&der)) {
                    continue;
                }
                let record = CertificateRecord {
                    issuer_ca: Some(ISSUING_CA.to_string()),
                    unit: Some(unit.code.clone()),
                    role,
                    chain_der: self.issuers.clone(),
                    ..super::registration(
                        &der,
                        KeyCustody::DataDirectory,
                        CertificateOrigin::Development,
                        now,
                    )?
                };
                if self.store.add_certificate(&record).await? {
                    added += 1;
                }
            }
        }
        Ok(added)
    }

    /// Makes the register's current signers the server's: for each unit and
    /// role, the most recently registered certificate that is valid at `now`
    /// and whose key kyso or a token holds. A revoked one stays the signer,
    /// so that signing is refused with the reason until a new certificate is
    /// issued, rather than falling back to an older one. Run at start and
    /// periodically, so replicas follow each other's issuances.
    pub async fn load_signers(&self, now: SystemTime) -> Result<(), AuthorityError> {
        let installed: HashSet<String> = self
            .keys
            .signers()
            .into_iter()
            .map(|(_, _, signer)| signer.profile().fingerprint().to_string())
            .collect();
        let mut newest: HashMap<(String, String), CertificateRecord> = HashMap::new();
        for record in self
            .store
            .certificates(&CertificateFilter::all(now))
            .await?
        {
            let holds_key = !matches!(record.custody, KeyCustody::External);
            let valid = record.not_before <= now && now <= record.not_after;
            let Some(unit) = record.unit.as_ref() else {
                continue;
            };
            if !holds_key || !valid || record.role == CertificateRole::TimeStamping {
                continue;
            }
            let key = (unit.to_string(), record.role.to_string());
            // Registration order: a later record replaces an earlier one.
            newest.insert(key, record);
        }
        for record in newest.into_values() {
            if installed.contains(&record.fingerprint) {
                continue;
            }
            let key: Arc<dyn SigningKey> = match &record.custody {
                KeyCustody::Sealed { armoured } => {
                    let pkcs8 = custody::unseal(
                        &self.kek,
                        &sealing_purpose(&record.fingerprint),
                        armoured.as_bytes(),
                        Path::new("certificate register"),
                    )?;
                    keyfile::private_key_from_pkcs8(
                        &pkcs8,
                        Path::new("certificate register"),
                        self.rsa_padding,
                    )?
                }
                KeyCustody::Token { token, key_label } => {
                    let token = self.tokens.open(token)?;
                    Arc::new(token.signing_key(key_label, self.rsa_padding)?)
                }
                // The development PKI's keys are loaded from the data
                // directory at start; a newer one is installed already.
                KeyCustody::DataDirectory | KeyCustody::External => continue,
            };
            self.install(&record, key)?;
        }
        Ok(())
    }

    /// Makes `record`'s certificate with `key` the signer of its unit and
    /// role (time-stamping certificates do not sign documents).
    pub(super) fn install(
        &self,
        record: &CertificateRecord,
        key: Arc<dyn SigningKey>,
    ) -> Result<(), AuthorityError> {
        let role = match &record.role {
            CertificateRole::Organisation => SignerRole::Organisation,
            CertificateRole::Leader(leader) => SignerRole::Leader(leader.clone()),
            CertificateRole::TimeStamping => return Ok(()),
        };
        let Some(unit) = record.unit.clone() else {
            return Ok(());
        };
        let mut chain = vec![record.certificate_der.clone()];
        chain.extend(record.chain_der.iter().cloned());
        let signer = Signer::new(key, &chain)?;
        self.keys.install(unit, role, Arc::new(signer));
        Ok(())
    }
}
