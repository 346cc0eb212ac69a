//! The development PKI on disk: a root, an issuing CA, and a certificate with key for every
//! unit and leader of the registry.
//!
//! Layout under the data directory:
//!
//! ```text
//! pki/root.pem  pki/root.key.pem            root CA certificate and sealed PKCS#8 key
//! pki/issuing-ca.pem  pki/issuing-ca.key.pem issuing CA certificate and sealed key
//! pki/chain.pem                             issuing CA then root, PEM
//! pki/.complete                             written last, once everything above exists
//! units/<code>/organisation.pem  units/<code>/organisation.key.pem
//! units/<code>/leaders/<leader-id>.pem  units/<code>/leaders/<leader-id>.key.pem
//! ```
//!
//! Every `*.key.pem` kyso writes is a `KYSO SEALED PRIVATE KEY` (see [`crate::custody`]),
//! sealed under the key-encryption key for its path relative to the data directory, so a key
//! file copied over another is refused. The key-encryption key comes from
//! `KYSO_KEY_ENCRYPTION_KEY`, the configured file, or by default `<data_dir>.kek` beside (not
//! inside) the data directory, created on first start. kyso never writes a key in clear; a
//! clear PKCS#8 or PKCS#1 PEM an operator puts in a key's place is still read, with a warning.
//! Key files are mode 0600 in 0700 directories all the same.

use std::ffi::OsString;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rcgen::KeyPair;
use zeroize::Zeroizing;

use super::stored;
use super::{CaError, CertificateAuthority, CertifiedKey, KeyAlgorithm, LeafKey};
use crate::custody::{self, CustodyError, KeyEncryptionKey, StoredKey};
use crate::units::{LeaderId, UnitCode, UnitRegistry};

const ROOT_COMMON_NAME: &str = "kyso Development Root CA";
const ISSUING_COMMON_NAME: &str = "kyso Development Issuing CA";
const ORGANISATION: &str = "kyso development PKI";

const KEY_MODE: u32 = 0o600;
const CERTIFICATE_MODE: u32 = 0o644;
const DIRECTORY_MODE: u32 = 0o700;

/// Where the development PKI's files live under a data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevPki {
    data_dir: PathBuf,
}

/// What [`ensure_dev_pki`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevPkiReport {
    /// Whether this call created the root and issuing CAs.
    pub created: bool,
    /// The root certificate, to be trusted by whoever verifies development signatures.
    pub root_pem_path: PathBuf,
    /// The certificate files this call wrote, in the order written (each key file sits beside
    /// its certificate): the CAs and chain when `created`, then units and leaders.
    pub issued: Vec<PathBuf>,
}

impl DevPki {
    /// The layout under `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// `pki/`: the CAs.
    pub fn pki_dir(&self) -> PathBuf {
        self.data_dir.join("pki")
    }

    /// `pki/root.pem`.
    pub fn root_certificate_path(&self) -> PathBuf {
        self.pki_dir().join("root.pem")
    }

    /// `pki/root.key.pem`.
    pub fn root_key_path(&self) -> PathBuf {
        self.pki_dir().join("root.key.pem")
    }

    /// `pki/issuing-ca.pem`.
    pub fn issuing_ca_certificate_path(&self) -> PathBuf {
        self.pki_dir().join("issuing-ca.pem")
    }

    /// `pki/issuing-ca.key.pem`.
    pub fn issuing_ca_key_path(&self) -> PathBuf {
        self.pki_dir().join("issuing-ca.key.pem")
    }

    /// `pki/chain.pem`: the issuing CA's certificate, then the root's.
    pub fn chain_path(&self) -> PathBuf {
        self.pki_dir().join("chain.pem")
    }

    /// `pki/.complete`: present once a whole PKI has been written.
    pub fn marker_path(&self) -> PathBuf {
        self.pki_dir().join(".complete")
    }

    /// `units/<code>/`.
    pub fn unit_dir(&self, unit: &UnitCode) -> PathBuf {
        self.data_dir.join("units").join(unit.as_str())
    }

    /// `units/<code>/organisation.pem`.
    pub fn organisation_certificate_path(&self, unit: &UnitCode) -> PathBuf {
        self.unit_dir(unit).join("organisation.pem")
    }

    /// `units/<code>/organisation.key.pem`.
    pub fn organisation_key_path(&self, unit: &UnitCode) -> PathBuf {
        self.unit_dir(unit).join("organisation.key.pem")
    }

    /// `units/<code>/leaders/<leader-id>.pem`.
    pub fn leader_certificate_path(&self, unit: &UnitCode, leader: &LeaderId) -> PathBuf {
        self.unit_dir(unit)
            .join("leaders")
            .join(format!("{leader}.pem"))
    }

    /// `units/<code>/leaders/<leader-id>.key.pem`.
    pub fn leader_key_path(&self, unit: &UnitCode, leader: &LeaderId) -> PathBuf {
        self.unit_dir(unit)
            .join("leaders")
            .join(format!("{leader}.key.pem"))
    }

    /// `<data_dir>.kek`: the default key-encryption key file, a sibling of the data directory
    /// so that a copy of the data directory alone does not open its keys.
    pub fn default_key_encryption_key_path(&self) -> Result<PathBuf, CaError> {
        let directory = if self.data_dir.file_name().is_some() {
            self.data_dir.clone()
        } else {
            // `.`, `..` or a path ending in `..`: name it by where it really is.
            fs::canonicalize(&self.data_dir).map_err(io_error(&self.data_dir))?
        };
        let mut name = directory
            .file_name()
            .ok_or_else(|| CustodyError::NoKeyFileLocation {
                data_dir: self.data_dir.clone(),
            })?
            .to_os_string();
        name.push(".kek");
        Ok(directory.with_file_name(name))
    }

    /// True once the issuing CA's key is stored sealed: from then on a missing key-encryption
    /// key file is an error rather than something to create.
    fn holds_sealed_keys(&self) -> Result<bool, CaError> {
        let path = self.issuing_ca_key_path();
        match fs::read(&path) {
            Ok(bytes) => Ok(custody::is_sealed(&Zeroizing::new(bytes))),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(false),
            Err(error) => Err(io_error(&path)(error)),
        }
    }

    /// The key-encryption key for this data directory: `KYSO_KEY_ENCRYPTION_KEY` when set, else
    /// `configured_file`, else [`DevPki::default_key_encryption_key_path`]. The file is created
    /// (mode 0600, random bytes) only while no key has been sealed yet.
    pub fn key_encryption_key(
        &self,
        configured_file: Option<&Path>,
    ) -> Result<KeyEncryptionKey, CaError> {
        let file = match configured_file {
            Some(file) => file.to_path_buf(),
            None => self.default_key_encryption_key_path()?,
        };
        let (key, _origin) = KeyEncryptionKey::resolve(&file, !self.holds_sealed_keys()?)?;
        Ok(key)
    }

    /// The purpose a key file is sealed for: its path relative to the data directory (which
    /// names the role, the unit and the leader), with `/` separators.
    pub fn key_purpose(&self, key_path: &Path) -> String {
        let relative = key_path.strip_prefix(&self.data_dir).unwrap_or(key_path);
        relative
            .components()
            .map(|component| component.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The PKCS#8 DER of the key stored at `key_path` (sealed, or placed in clear), for tools
    /// that must hand the key to another program; the buffer is wiped when dropped. Whoever
    /// writes it out takes over its custody.
    pub fn unseal_key(
        &self,
        key_path: &Path,
        kek: &KeyEncryptionKey,
    ) -> Result<Zeroizing<Vec<u8>>, CaError> {
        match custody::read_key_file(key_path, &self.key_purpose(key_path), kek)? {
            StoredKey::Sealed(pkcs8) => Ok(pkcs8),
            StoredKey::Clear(bytes) => {
                let text = Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned());
                let pkcs8 =
                    Zeroizing::new(stored::pem_decode(&text, "PRIVATE KEY").map_err(|_| {
                        CustodyError::NoPrivateKey {
                            path: key_path.to_path_buf(),
                        }
                    })?);
                Ok(pkcs8)
            }
        }
    }

    /// Reloads the stored issuing CA, opening its key with the data directory's default
    /// key-encryption key (see [`DevPki::key_encryption_key`]).
    pub fn load_issuing_ca(&self) -> Result<CertificateAuthority, CaError> {
        let kek = self.key_encryption_key(None)?;
        self.load_issuing_ca_with_kek(&kek)
    }

    /// Reloads the stored issuing CA, opening its key with `kek`.
    pub fn load_issuing_ca_with_kek(
        &self,
        kek: &KeyEncryptionKey,
    ) -> Result<CertificateAuthority, CaError> {
        let certificate_path = self.issuing_ca_certificate_path();
        let key_path = self.issuing_ca_key_path();
        let certificate_pem = read_text(&certificate_path)?;
        let invalid_certificate = |defect| CaError::InvalidStoredCertificate {
            path: certificate_path.clone(),
            defect,
        };
        let der =
            stored::pem_decode(&certificate_pem, "CERTIFICATE").map_err(invalid_certificate)?;
        let invalid_key = |source| CaError::InvalidStoredKey {
            path: key_path.clone(),
            source,
        };
        let key = match custody::read_key_file(&key_path, &self.key_purpose(&key_path), kek)? {
            StoredKey::Sealed(pkcs8) => KeyPair::try_from(pkcs8.as_slice()).map_err(invalid_key)?,
            StoredKey::Clear(bytes) => {
                let text = Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned());
                KeyPair::from_pem(&text).map_err(invalid_key)?
            }
        };
        CertificateAuthority::from_der_and_key(der, key).map_err(invalid_certificate)
    }
}

/// [`ensure_dev_pki_with_kek`] with the data directory's default key-encryption key (see
/// [`DevPki::key_encryption_key`]), created on first use.
pub fn ensure_dev_pki(
    data_dir: &Path,
    registry: &UnitRegistry,
    now: SystemTime,
) -> Result<DevPkiReport, CaError> {
    let layout = DevPki::new(data_dir);
    private_dir(&layout.pki_dir())?;
    let kek = layout.key_encryption_key(None)?;
    ensure_dev_pki_with_kek(data_dir, registry, &kek, now)
}

/// Makes sure a development PKI for `registry` exists under `data_dir`, its keys sealed under
/// `kek`, and reports what it wrote.
///
/// Without the `pki/.complete` marker it creates everything: root and issuing CA (overwriting
/// any leftovers of an interrupted run), then an organisation certificate for every unit and a
/// personal certificate for every leader (ECDSA P-256 keys), then the marker. With the marker
/// it loads the stored issuing CA and issues only what is missing: credentials for units and
/// leaders added to the registry since. Credentials of units that left the registry are left
/// alone.
///
/// Each file is written to a temporary sibling, flushed and renamed into place, so a crash
/// never leaves half a file. A certificate is written after its key and removed before its key
/// is replaced, so a certificate file on disk always matches the key beside it; a pair counts
/// as present when both files exist.
pub fn ensure_dev_pki_with_kek(
    data_dir: &Path,
    registry: &UnitRegistry,
    kek: &KeyEncryptionKey,
    now: SystemTime,
) -> Result<DevPkiReport, CaError> {
    ensure_published_dev_pki(data_dir, registry, kek, None, now)
}

/// [`ensure_dev_pki_with_kek`] for a server reachable at `public_url`: every
/// certificate issued now (the issuing CA, when the hierarchy is created, and
/// unit and leader certificates) names the CRL and the issuer certificate
/// that server publishes ([`Publication::at`]).
///
/// [`Publication::at`]: super::Publication::at
pub fn ensure_published_dev_pki(
    data_dir: &Path,
    registry: &UnitRegistry,
    kek: &KeyEncryptionKey,
    public_url: Option<&str>,
    now: SystemTime,
) -> Result<DevPkiReport, CaError> {
    let publication = |name: &str| public_url.map(|base| super::Publication::at(base, name));
    let layout = DevPki::new(data_dir);
    private_dir(&layout.pki_dir())?;
    let created = !exists(&layout.marker_path())?;
    let mut issued = Vec::new();

    let issuing_ca = if created {
        let mut root = CertificateAuthority::new_root(ROOT_COMMON_NAME, ORGANISATION, now)?;
        root.set_publication(publication("root"));
        let issuing = root.issue_intermediate(ISSUING_COMMON_NAME, ORGANISATION, now)?;
        write_sealed_key(
            &layout,
            kek,
            &layout.root_key_path(),
            root.private_key_pkcs8_der(),
        )?;
        write_file(
            &layout.root_certificate_path(),
            root.certificate_pem().as_bytes(),
            CERTIFICATE_MODE,
        )?;
        write_sealed_key(
            &layout,
            kek,
            &layout.issuing_ca_key_path(),
            issuing.private_key_pkcs8_der(),
        )?;
        write_file(
            &layout.issuing_ca_certificate_path(),
            issuing.certificate_pem().as_bytes(),
            CERTIFICATE_MODE,
        )?;
        let chain = format!("{}{}", issuing.certificate_pem(), root.certificate_pem());
        write_file(&layout.chain_path(), chain.as_bytes(), CERTIFICATE_MODE)?;
        issued.extend([
            layout.root_certificate_path(),
            layout.issuing_ca_certificate_path(),
            layout.chain_path(),
        ]);
        issuing
    } else {
        layout.load_issuing_ca_with_kek(kek)?
    };
    let mut issuing_ca = issuing_ca;
    issuing_ca.set_publication(publication("issuing"));

    for unit in registry.units() {
        let unit_dir = layout.unit_dir(&unit.code);
        private_dir(&unit_dir)?;
        let certificate_path = layout.organisation_certificate_path(&unit.code);
        let key_path = layout.organisation_key_path(&unit.code);
        if created || !pair_exists(&certificate_path, &key_path)? {
            remove_if_present(&certificate_path)?;
            let credential = issuing_ca.issue_organisation(
                unit,
                LeafKey::Generate(KeyAlgorithm::EcdsaP256),
                now,
            )?;
            write_credential(&layout, kek, credential, &certificate_path, &key_path)?;
            issued.push(certificate_path);
        }
        if unit.leaders.is_empty() {
            continue;
        }
        private_dir(&unit_dir.join("leaders"))?;
        for leader in &unit.leaders {
            let certificate_path = layout.leader_certificate_path(&unit.code, &leader.id);
            let key_path = layout.leader_key_path(&unit.code, &leader.id);
            if created || !pair_exists(&certificate_path, &key_path)? {
                remove_if_present(&certificate_path)?;
                let credential = issuing_ca.issue_personal(
                    unit,
                    leader,
                    LeafKey::Generate(KeyAlgorithm::EcdsaP256),
                    now,
                )?;
                write_credential(&layout, kek, credential, &certificate_path, &key_path)?;
                issued.push(certificate_path);
            }
        }
    }

    if created {
        write_file(
            &layout.marker_path(),
            b"kyso development PKI\n",
            CERTIFICATE_MODE,
        )?;
    }
    tracing::info!(
        created,
        issued = issued.len(),
        root = %layout.root_certificate_path().display(),
        "development PKI ready"
    );
    Ok(DevPkiReport {
        created,
        root_pem_path: layout.root_certificate_path(),
        issued,
    })
}

/// Writes `pkcs8` sealed under `kek` for `path`'s place in the layout.
fn write_sealed_key(
    layout: &DevPki,
    kek: &KeyEncryptionKey,
    path: &Path,
    pkcs8: &[u8],
) -> Result<(), CaError> {
    let sealed = custody::seal(kek, &layout.key_purpose(path), pkcs8)?;
    write_file(path, sealed.as_bytes(), KEY_MODE)
}

/// Writes the sealed key, then the certificate, and wipes the credential's clear key.
fn write_credential(
    layout: &DevPki,
    kek: &KeyEncryptionKey,
    mut credential: CertifiedKey,
    certificate_path: &Path,
    key_path: &Path,
) -> Result<(), CaError> {
    let pkcs8 = Zeroizing::new(std::mem::take(&mut credential.private_key_pkcs8_der));
    write_sealed_key(layout, kek, key_path, &pkcs8)?;
    write_file(
        certificate_path,
        credential.certificate_pem.as_bytes(),
        CERTIFICATE_MODE,
    )
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> CaError + '_ {
    move |source| CaError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn read_text(path: &Path) -> Result<String, CaError> {
    fs::read_to_string(path).map_err(io_error(path))
}

fn exists(path: &Path) -> Result<bool, CaError> {
    path.try_exists().map_err(io_error(path))
}

fn pair_exists(certificate: &Path, key: &Path) -> Result<bool, CaError> {
    Ok(exists(certificate)? && exists(key)?)
}

fn remove_if_present(path: &Path) -> Result<(), CaError> {
    match fs::remove_file(path) {
        Err(error) if error.kind() != ErrorKind::NotFound => Err(io_error(path)(error)),
        _ => Ok(()),
    }
}

/// Creates `path` and its missing parents as 0700, and narrows `path` itself to 0700 if it
/// already existed wider (keys live below it).
fn private_dir(path: &Path) -> Result<(), CaError> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIRECTORY_MODE)
        .create(path)
        .and_then(|()| fs::set_permissions(path, fs::Permissions::from_mode(DIRECTORY_MODE)))
        .map_err(io_error(path))
}

/// Writes `contents` to `path` atomically: a fresh temporary sibling created with `mode` (so a
/// key is never readable by others, not even briefly), synced, renamed over `path`, then the
/// directory synced so the rename survives a crash.
fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), CaError> {
    let directory = path.parent().unwrap_or(Path::new("."));
    let mut temporary_name = OsString::from(".");
    temporary_name.push(path.file_name().unwrap_or(path.as_os_str()));
    temporary_name.push(".tmp");
    let temporary = directory.join(temporary_name);
    remove_if_present(&temporary)?;
    let write = || -> std::io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()
    };
    write().map_err(io_error(&temporary))?;
    fs::rename(&temporary, path).map_err(io_error(path))?;
    fs::File::open(directory)
        .and_then(|handle| handle.sync_all())
        .map_err(io_error(directory))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{Leader, Unit, demo_province};
    use std::time::Duration;
    use x509_cert::Certificate;
    use x509_cert::der::{Decode, Encode};

    /// The key-encryption key of these tests.
    fn kek() -> KeyEncryptionKey {
        KeyEncryptionKey::from_bytes([0x5A; 32])
    }

    /// [`ensure_dev_pki_with_kek`] with [`kek`], so no KEK file lands beside the temporary
    /// directory.
    fn ensure_sealed(
        data_dir: &Path,
        registry: &UnitRegistry,
        now: SystemTime,
    ) -> Result<DevPkiReport, CaError> {
        ensure_dev_pki_with_kek(data_dir, registry, &kek(), now)
    }

    /// The key sealed at `path`, opened.
    fn stored_key(layout: &DevPki, path: &Path) -> KeyPair {
        let pkcs8 = layout.unseal_key(path, &kek()).expect("unseal");
        KeyPair::try_from(pkcs8.as_slice()).expect("PKCS#8 key")
    }

    /// 2025-03-01T01:02:03Z, a fixed instant.
    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_790_923)
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    fn certificate(path: &Path) -> Certificate {
        let der = stored::pem_decode(
            &fs::read_to_string(path).expect("read to string"),
            "CERTIFICATE",
        )
        .expect("pem decode");
        Certificate::from_der(&der).expect("from der")
    }

    fn issued_by(leaf: &Path, issuer: &Path) -> bool {
        certificate(leaf)
            .tbs_certificate
            .issuer
            .to_der()
            .expect("to der")
            == certificate(issuer)
                .tbs_certificate
                .subject
                .to_der()
                .expect("to der")
    }

    /// Every file below `dir`, relative, sorted.
    fn files(dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(next) = pending.pop() {
            for entry in fs::read_dir(next).expect("read dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    found.push(path.strip_prefix(dir).expect("strip prefix").to_path_buf());
                }
            }
        }
        found.sort();
        found
    }

    fn contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        files(dir)
            .into_iter()
            .map(|file| {
                let bytes = fs::read(dir.join(&file)).expect("read");
                (file, bytes)
            })
            .collect()
    }

    #[test]
    fn first_call_writes_the_whole_pki_with_private_modes() {
        let data = tempfile::tempdir().expect("tempdir");
        let registry = demo_province();
        let report = ensure_sealed(data.path(), &registry, now()).expect("ensure dev pki");
        let layout = DevPki::new(data.path());

        assert!(report.created);
        assert_eq!(report.root_pem_path, data.path().join("pki/root.pem"));
        let leaders: usize = registry.units().iter().map(|unit| unit.leaders.len()).sum();
        assert_eq!(report.issued.len(), 3 + registry.units().len() + leaders);
        assert!(layout.marker_path().exists());

        let mut expected = vec![
            PathBuf::from("pki/.complete"),
            PathBuf::from("pki/chain.pem"),
            PathBuf::from("pki/issuing-ca.key.pem"),
            PathBuf::from("pki/issuing-ca.pem"),
            PathBuf::from("pki/root.key.pem"),
            PathBuf::from("pki/root.pem"),
        ];
        for unit in registry.units() {
            let dir = PathBuf::from("units").join(unit.code.as_str());
            expected.push(dir.join("organisation.pem"));
            expected.push(dir.join("organisation.key.pem"));
            for leader in &unit.leaders {
                expected.push(dir.join(format!("leaders/{}.pem", leader.id)));
                expected.push(dir.join(format!("leaders/{}.key.pem", leader.id)));
            }
        }
        expected.sort();
        assert_eq!(files(data.path()), expected);

        let tan_vinh = UnitCode::parse("000.01.34.H23").expect("parse");
        let tinh = LeaderId::parse("bui-van-tinh").expect("parse");
        for key in [
            layout.root_key_path(),
            layout.issuing_ca_key_path(),
            layout.organisation_key_path(&tan_vinh),
            layout.leader_key_path(&tan_vinh, &tinh),
        ] {
            assert_eq!(mode(&key), 0o600, "{}", key.display());
            let pem = fs::read_to_string(&key).expect("read to string");
            assert!(pem.starts_with("-----BEGIN KYSO SEALED PRIVATE KEY-----\n"));
            stored_key(&layout, &key);
        }
        for (file, bytes) in contents(data.path()) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text
                    .replace(custody::SEALED_LABEL, "")
                    .contains("PRIVATE KEY"),
                "{} holds a key in clear",
                file.display()
            );
        }
        for dir in [
            layout.pki_dir(),
            data.path().join("units"),
            layout.unit_dir(&tan_vinh),
            layout.unit_dir(&tan_vinh).join("leaders"),
        ] {
            assert_eq!(mode(&dir), 0o700, "{}", dir.display());
        }

        let root = layout.root_certificate_path();
        let issuing = layout.issuing_ca_certificate_path();
        assert!(issued_by(&issuing, &root));
        assert!(issued_by(
            &layout.organisation_certificate_path(&tan_vinh),
            &issuing
        ));
        assert!(issued_by(
            &layout.leader_certificate_path(&tan_vinh, &tinh),
            &issuing
        ));
        let chain = fs::read_to_string(layout.chain_path()).expect("read to string");
        let expected_chain = format!(
            "{}{}",
            fs::read_to_string(&issuing).expect("read to string"),
            fs::read_to_string(&root).expect("read to string")
        );
        assert_eq!(chain, expected_chain);
    }

    #[test]
    fn stored_keys_match_their_certificates() {
        let data = tempfile::tempdir().expect("tempdir");
        let registry = demo_province();
        ensure_sealed(data.path(), &registry, now()).expect("ensure dev pki");
        let layout = DevPki::new(data.path());
        let unit = &registry.units()[3];
        let leader = &unit.leaders[0];
        for (certificate_path, key_path) in [
            (
                layout.organisation_certificate_path(&unit.code),
                layout.organisation_key_path(&unit.code),
            ),
            (
                layout.leader_certificate_path(&unit.code, &leader.id),
                layout.leader_key_path(&unit.code, &leader.id),
            ),
        ] {
            let key = stored_key(&layout, &key_path);
            let certificate = certificate(&certificate_path);
            let public_key = certificate
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes()
                .to_vec();
            assert_eq!(public_key, rcgen::PublicKeyData::der_bytes(&key));
        }
    }

    #[test]
    fn second_call_finds_the_marker_and_writes_nothing() {
        let data = tempfile::tempdir().expect("tempdir");
        let registry = demo_province();
        ensure_sealed(data.path(), &registry, now()).expect("ensure dev pki");
        let before = contents(data.path());

        let report = ensure_sealed(data.path(), &registry, now() + Duration::from_secs(60))
            .expect("ensure dev pki");
        assert!(!report.created);
        assert!(report.issued.is_empty());
        assert_eq!(report.root_pem_path, data.path().join("pki/root.pem"));
        assert_eq!(contents(data.path()), before);
    }

    #[test]
    fn units_and_leaders_added_later_get_credentials_from_the_stored_issuing_ca() {
        let data = tempfile::tempdir().expect("tempdir");
        let layout = DevPki::new(data.path());
        let demo = demo_province();
        let first: Vec<Unit> = demo.units()[..3].to_vec();
        ensure_sealed(
            data.path(),
            &UnitRegistry::new(first.clone()).expect("registry is consistent"),
            now(),
        )
        .expect("ensure dev pki");
        let before = contents(data.path());

        let mut grown = first;
        grown[0].leaders.push(Leader {
            id: LeaderId::parse("tran-thi-ngoc").expect("parse"),
            full_name: "Trần Thị Ngọc".to_owned(),
        });
        grown.push(demo.units()[3].clone());
        let added = &demo.units()[3];
        let later = now() + Duration::from_secs(24 * 60 * 60);
        let report = ensure_sealed(
            data.path(),
            &UnitRegistry::new(grown.clone()).expect("registry is consistent"),
            later,
        )
        .expect("ensure dev pki");

        assert!(!report.created);
        let new_leader = LeaderId::parse("tran-thi-ngoc").expect("parse");
        let mut expected = vec![
            layout.leader_certificate_path(&grown[0].code, &new_leader),
            layout.organisation_certificate_path(&added.code),
        ];
        expected.extend(
            added
                .leaders
                .iter()
                .map(|leader| layout.leader_certificate_path(&added.code, &leader.id)),
        );
        assert_eq!(report.issued, expected);
        for path in &report.issued {
            assert!(issued_by(path, &layout.issuing_ca_certificate_path()));
        }
        // Everything that existed is untouched.
        let after = contents(data.path());
        for (file, bytes) in before {
            let now_bytes = &after
                .iter()
                .find(|(name, _)| *name == file)
                .expect("file still present")
                .1;
            assert_eq!(now_bytes, &bytes, "{}", file.display());
        }
    }

    #[test]
    fn a_credential_missing_its_key_is_issued_again_as_a_pair() {
        let data = tempfile::tempdir().expect("tempdir");
        let layout = DevPki::new(data.path());
        let registry = demo_province();
        ensure_sealed(data.path(), &registry, now()).expect("ensure dev pki");
        let unit = &registry.units()[0];
        let key_path = layout.organisation_key_path(&unit.code);
        let certificate_path = layout.organisation_certificate_path(&unit.code);
        let old_certificate = fs::read(&certificate_path).expect("read");
        fs::remove_file(&key_path).expect("remove file");

        let report = ensure_sealed(data.path(), &registry, now()).expect("ensure dev pki");
        assert_eq!(report.issued, vec![certificate_path.clone()]);
        assert_ne!(fs::read(&certificate_path).expect("read"), old_certificate);
        let key = stored_key(&layout, &key_path);
        let certified = certificate(&certificate_path)
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes()
            .to_vec();
        assert_eq!(certified, rcgen::PublicKeyData::der_bytes(&key));
    }

    #[test]
    fn an_interrupted_first_run_is_redone_from_scratch() {
        let data = tempfile::tempdir().expect("tempdir");
        let layout = DevPki::new(data.path());
        let registry = demo_province();
        ensure_sealed(data.path(), &registry, now()).expect("ensure dev pki");
        let old_root = fs::read(layout.root_certificate_path()).expect("read");
        let unit = &registry.units()[0];
        let old_organisation =
            fs::read(layout.organisation_certificate_path(&unit.code)).expect("read");
        // As if the process died before writing the marker, leaving a temporary file behind.
        fs::remove_file(layout.marker_path()).expect("remove file");
        fs::write(layout.pki_dir().join(".root.pem.tmp"), b"half").expect("write");

        let report = ensure_sealed(data.path(), &registry, now()).expect("ensure dev pki");
        assert!(report.created);
        assert_ne!(
            fs::read(layout.root_certificate_path()).expect("read"),
            old_root
        );
        assert_ne!(
            fs::read(layout.organisation_certificate_path(&unit.code)).expect("read"),
            old_organisation
        );
        assert!(issued_by(
            &layout.organisation_certificate_path(&unit.code),
            &layout.issuing_ca_certificate_path()
        ));
        assert!(!layout.pki_dir().join(".root.pem.tmp").exists());
        assert!(layout.marker_path().exists());
    }

    #[test]
    fn a_damaged_stored_issuing_ca_is_reported_with_its_path() {
        let data = tempfile::tempdir().expect("tempdir");
        let layout = DevPki::new(data.path());
        let registry = demo_province();
        ensure_sealed(data.path(), &registry, now()).expect("ensure dev pki");

        let root = fs::read(layout.root_certificate_path()).expect("read");
        fs::write(layout.issuing_ca_certificate_path(), root).expect("write");
        match ensure_sealed(data.path(), &registry, now()).expect_err("ensure dev pki fails") {
            CaError::InvalidStoredCertificate { path, defect } => {
                assert_eq!(path, layout.issuing_ca_certificate_path());
                assert_eq!(defect, super::super::CertificateDefect::KeyMismatch);
            }
            other => panic!("unexpected {other:?}"),
        }

        fs::write(layout.issuing_ca_key_path(), b"garbage").expect("write");
        match ensure_sealed(data.path(), &registry, now()).expect_err("ensure dev pki fails") {
            CaError::InvalidStoredKey { path, .. } => {
                assert_eq!(path, layout.issuing_ca_key_path())
            }
            other => panic!("unexpected {other:?}"),
        }

        fs::remove_file(layout.issuing_ca_key_path()).expect("remove file");
        match ensure_sealed(data.path(), &registry, now()).expect_err("ensure dev pki fails") {
            CaError::Custody(CustodyError::Io { path, .. }) => {
                assert_eq!(path, layout.issuing_ca_key_path())
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_wider_existing_pki_directory_is_narrowed_to_the_owner() {
        let data = tempfile::tempdir().expect("tempdir");
        let layout = DevPki::new(data.path());
        fs::create_dir(layout.pki_dir()).expect("create dir");
        fs::set_permissions(layout.pki_dir(), fs::Permissions::from_mode(0o755))
            .expect("set permissions");
        ensure_sealed(
            data.path(),
            &UnitRegistry::new(Vec::new()).expect("registry is consistent"),
            now(),
        )
        .expect("ensure dev pki");
        assert_eq!(mode(&layout.pki_dir()), 0o700);
    }

    #[test]
    fn key_files_swapped_with_each_other_are_refused() {
        let data = tempfile::tempdir().expect("tempdir");
        let layout = DevPki::new(data.path());
        let registry = demo_province();
        ensure_sealed(data.path(), &registry, now()).expect("ensure dev pki");
        let root = fs::read(layout.root_key_path()).expect("read");
        fs::write(layout.issuing_ca_key_path(), root).expect("write");
        match layout.load_issuing_ca_with_kek(&kek()) {
            Err(CaError::Custody(CustodyError::Decrypt { path })) => {
                assert_eq!(path, layout.issuing_ca_key_path())
            }
            other => panic!("unexpected {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn another_kek_cannot_reload_the_issuing_ca() {
        let data = tempfile::tempdir().expect("tempdir");
        let layout = DevPki::new(data.path());
        ensure_sealed(data.path(), &demo_province(), now()).expect("ensure dev pki");
        let other = KeyEncryptionKey::from_bytes([0xA5; 32]);
        let error = layout
            .load_issuing_ca_with_kek(&other)
            .map(|_| ())
            .expect_err("wrong KEK");
        let message = error.to_string();
        assert!(message.contains("issuing-ca.key.pem"), "{message}");
        assert!(message.contains("wrong key-encryption key"), "{message}");
    }

    #[test]
    fn a_clear_key_an_operator_put_in_place_is_still_read() {
        let data = tempfile::tempdir().expect("tempdir");
        let layout = DevPki::new(data.path());
        let registry = demo_province();
        ensure_sealed(data.path(), &registry, now()).expect("ensure dev pki");
        let key = stored_key(&layout, &layout.issuing_ca_key_path());
        fs::write(layout.issuing_ca_key_path(), key.serialize_pem()).expect("write");
        assert!(layout.load_issuing_ca_with_kek(&kek()).is_ok());
    }

    #[test]
    fn the_default_kek_is_created_beside_the_data_directory_and_then_required() {
        if std::env::var_os(KeyEncryptionKey::ENVIRONMENT_VARIABLE).is_some() {
            return;
        }
        let parent = tempfile::tempdir().expect("tempdir");
        let data_dir = parent.path().join("data");
        let registry = UnitRegistry::new(demo_province().units()[..1].to_vec())
            .expect("registry is consistent");
        ensure_dev_pki(&data_dir, &registry, now()).expect("ensure dev pki");
        let kek_path = parent.path().join("data.kek");
        assert_eq!(
            DevPki::new(&data_dir)
                .default_key_encryption_key_path()
                .expect("path"),
            kek_path
        );
        assert_eq!(mode(&kek_path), 0o600);
        assert_eq!(fs::metadata(&kek_path).expect("metadata").len(), 32);
        ensure_dev_pki(&data_dir, &registry, now()).expect("ensure dev pki again");
        assert!(DevPki::new(&data_dir).load_issuing_ca().is_ok());

        fs::remove_file(&kek_path).expect("remove file");
        match ensure_dev_pki(&data_dir, &registry, now()) {
            Err(CaError::Custody(CustodyError::KeyFileMissing { path })) => {
                assert_eq!(path, kek_path)
            }
            other => panic!("unexpected {:?}", other.map(|_| ())),
        }
        assert!(!kek_path.exists());
    }

    #[test]
    fn the_default_kek_path_is_a_sibling_even_for_trailing_slashes_and_dots() {
        let layout = DevPki::new(Path::new("kyso-data/"));
        assert_eq!(
            layout.default_key_encryption_key_path().expect("path"),
            PathBuf::from("kyso-data.kek")
        );
        let parent = tempfile::tempdir().expect("tempdir");
        let data_dir = parent.path().join("data");
        fs::create_dir(&data_dir).expect("create dir");
        let dotted = DevPki::new(&data_dir.join("."));
        assert_eq!(
            dotted.default_key_encryption_key_path().expect("path"),
            fs::canonicalize(parent.path())
                .expect("canonical")
                .join("data.kek")
        );
    }
}
