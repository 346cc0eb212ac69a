//! Publishing CRLs: a new one on every revocation and before the current
//! one's nextUpdate, numbered by the register so that replicas sharing a
//! database never publish two CRLs with one number.

use std::time::SystemTime;

use super::{Authority, AuthorityError, CRL_REFRESH_MARGIN, CRL_VALIDITY, ISSUING_CA, ROOT_CA};
use crate::ca::RevokedCertificate;
use crate::records::StoredCrl;

impl Authority {
    /// Signs and stores a new CRL of the CA `name` listing every certificate
    /// of it revoked so far.
    pub async fn publish_crl(
        &self,
        name: &str,
        now: SystemTime,
    ) -> Result<StoredCrl, AuthorityError> {
        let ca = match name {
            ISSUING_CA => self.issuing.clone(),
            ROOT_CA => self.root.clone(),
            _ => {
                return Err(AuthorityError::UnknownCa {
                    name: name.to_string(),
                });
            }
        };
        let next_update = now + CRL_VALIDITY;
        let published = self
            .store
            .publish_crl(name, now, next_update, |number, revoked| {
                let entries = revoked
                    .iter()
                    .map(|entry| {
                        Ok(RevokedCertificate {
                            serial: entry.serial_bytes().ok_or_else(|| {
                                AuthorityError::Internal(format!(
                                    "the register holds serial {:?}, which is not hex",
                                    entry.serial
                                ))
                            })?,
                            revoked_at: entry.at,
                            reason: entry.reason,
                        })
                    })
                    .collect::<Result<Vec<_>, AuthorityError>>()?;
                Ok::<_, AuthorityError>(ca.crl(number, now, next_update, &entries)?)
            })
            .await;
        published.map_err(AuthorityError::from_publish)
    }

    /// The CRL of the CA `name` to hand out at `now`: the latest published,
    /// or a new one when there is none or it is close to its nextUpdate.
    pub async fn current_crl(
        &self,
        name: &str,
        now: SystemTime,
    ) -> Result<StoredCrl, AuthorityError> {
        if self.ca_certificate(name).is_none() {
            return Err(AuthorityError::UnknownCa {
                name: name.to_string(),
            });
        }
        match self.store.latest_crl(name).await? {
            Some(crl) if !needs_refresh(&crl, now) => Ok(crl),
            _ => self.publish_crl(name, now).await,
        }
    }

    /// The current CRLs of both of kyso's CAs, DER, for Verify.
    pub async fn current_crls(&self, now: SystemTime) -> Result<Vec<Vec<u8>>, AuthorityError> {
        let mut crls = Vec::with_capacity(2);
        for name in [ISSUING_CA, ROOT_CA] {
            crls.push(self.current_crl(name, now).await?.der);
        }
        Ok(crls)
    }

    /// Publishes the CRLs that are missing or near their nextUpdate; the
    /// server calls it periodically.
    pub async fn refresh_crls(&self, now: SystemTime) -> Result<(), AuthorityError> {
        for name in [ISSUING_CA, ROOT_CA] {
            self.current_crl(name, now).await?;
        }
        Ok(())
    }
}

/// True when `crl` should be replaced at `now`.
fn needs_refresh(crl: &StoredCrl, now: SystemTime) -> bool {
    crl.next_update
        .duration_since(now)
        .map_or(true, |left| left < CRL_REFRESH_MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::{AuthoritySetup, Tokens};
    use crate::chain::TrustAnchors;
    use crate::custody::KeyEncryptionKey;
    use crate::records::RecordStore;
    use crate::units::UnitRegistry;
    use std::sync::Arc;
    use std::time::Duration;

    const HOUR: Duration = Duration::from_secs(3_600);

    async fn authority(data: &std::path::Path, now: SystemTime) -> Authority {
        std::fs::create_dir_all(data).expect("data dir");
        let kek = || KeyEncryptionKey::from_bytes([7; 32]);
        let no_units = UnitRegistry::new(Vec::new()).expect("registry");
        crate::ca::ensure_published_dev_pki(data, &no_units, &kek(), Some("http://kyso.test"), now)
            .expect("CA");
        let store = RecordStore::open(&RecordStore::sqlite_url(&data.join("records.db")))
            .await
            .expect("records");
        Authority::open(AuthoritySetup {
            data_dir: data,
            store,
            keys: Arc::default(),
            kek: kek(),
            tokens: Tokens::default(),
            rsa_padding: crate::crypto::RsaPadding::Pkcs1,
            anchors: Arc::new(TrustAnchors::from_der(Vec::new()).expect("anchors")),
            public_url: "http://kyso.test",
        })
        .expect("authority")
    }

    #[tokio::test]
    async fn a_crl_is_published_again_once_less_than_six_hours_are_left_before_its_next_update() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Whole seconds: the register keeps microseconds.
        let seconds = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(seconds);
        let authority = authority(&dir.path().join("data"), now).await;
        let first = authority.current_crl(ISSUING_CA, now).await.expect("crl");
        assert_eq!(first.number, 1);
        assert_eq!(first.next_update, now + CRL_VALIDITY);
        let seven_hours_left = now + 17 * HOUR;
        let kept = authority
            .current_crl(ISSUING_CA, seven_hours_left)
            .await
            .expect("crl");
        assert_eq!(
            kept.number, 1,
            "seven hours left: the CRL is still handed out"
        );
        let five_hours_left = now + 19 * HOUR;
        let renewed = authority
            .current_crl(ISSUING_CA, five_hours_left)
            .await
            .expect("crl");
        assert_eq!(renewed.number, 2);
        assert_eq!(renewed.next_update, five_hours_left + CRL_VALIDITY);
        let root = authority.current_crl(ROOT_CA, now).await.expect("root crl");
        assert_eq!(root.number, 1, "each CA numbers its own CRLs");
        assert!(matches!(
            authority.current_crl("other", now).await,
            Err(AuthorityError::UnknownCa { .. })
        ));
    }
}
