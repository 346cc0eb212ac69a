//! Fresh SoftHSM2 tokens for each test, in a process of the test's own.
//!
//! SoftHSM2 reads where its tokens live from `SOFTHSM2_CONF` once, at `C_Initialize`, and a
//! PKCS#11 login belongs to the whole process. Tests in one binary share a process (and kyso
//! forbids the `unsafe` that setting a variable in it now takes), so each test runs its body in
//! a child: this test binary again, filtered to that one test, with `SOFTHSM2_CONF` pointing at
//! a temporary directory whose tokens the parent initialised with `softhsm2-util`.
//!
//! The module comes from `KYSO_SOFTHSM2_MODULE` (set by `scripts/test`) or Debian's paths. A
//! machine without SoftHSM2 fails these tests: there is nothing else to test a PKCS#11 key
//! against.

#![allow(
    dead_code,
    reason = "each test binary that includes this module uses only part of it"
)]

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use kyso::hsm::{Pin, Pkcs11Config};

/// The security officer's PIN of every test token.
pub const SO_PIN: &str = "12345678";
/// The user PIN of every test token.
pub const USER_PIN: &str = "246810";

/// Set in the child to the name of the test it runs.
const CHILD: &str = "KYSO_SOFTHSM2_CHILD";
/// Set in the child to the directory it may write in.
const WORK_DIR: &str = "KYSO_SOFTHSM2_WORK_DIR";
const MODULE: &str = "KYSO_SOFTHSM2_MODULE";

/// Where Debian and Ubuntu install the module.
const MODULE_PATHS: [&str; 2] = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
];

/// The SoftHSM2 installation a test body runs against.
#[derive(Debug)]
pub struct SoftHsm {
    /// `libsofthsm2.so`.
    pub module: PathBuf,
    /// A directory for the test's files, removed with the tokens.
    pub dir: PathBuf,
}

impl SoftHsm {
    /// How to open the token labelled `token_label` with the user PIN.
    pub fn config(&self, token_label: &str) -> Pkcs11Config {
        self.config_with_pin(token_label, USER_PIN)
    }

    /// How to open the token labelled `token_label` with `pin`.
    pub fn config_with_pin(&self, token_label: &str, pin: &str) -> Pkcs11Config {
        Pkcs11Config {
            module: self.module.clone(),
            token_label: token_label.to_owned(),
            pin: Pin::new(pin.to_owned()),
        }
    }
}

/// Runs `body` in a child process whose SoftHSM2 holds one fresh token per label in
/// `token_labels` (user PIN [`USER_PIN`]), and fails if the child fails. Call it from a test
/// function directly: the child is found by the name of the test's thread.
pub fn with_fresh_tokens(token_labels: &[&str], body: impl FnOnce(&SoftHsm)) {
    let test = std::thread::current()
        .name()
        .expect("libtest names each test's thread after the test")
        .to_owned();
    if env::var(CHILD).as_deref() == Ok(test.as_str()) {
        let module = PathBuf::from(env::var_os(MODULE).expect("the parent sets the module"));
        let dir = PathBuf::from(env::var_os(WORK_DIR).expect("the parent sets the directory"));
        body(&SoftHsm { module, dir });
        return;
    }

    let module = module();
    let util = softhsm2_util();
    let dir = tempfile::tempdir().expect("tempdir");
    let tokens = dir.path().join("tokens");
    let work = dir.path().join("work");
    fs::create_dir_all(&tokens).expect("token directory");
    fs::create_dir_all(&work).expect("work directory");
    let conf = dir.path().join("softhsm2.conf");
    fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .expect("write softhsm2.conf");
    for label in token_labels {
        let output = Command::new(&util)
            .args(["--init-token", "--free", "--label", label])
            .args(["--so-pin", SO_PIN, "--pin", USER_PIN])
            .env("SOFTHSM2_CONF", &conf)
            .output()
            .expect("run softhsm2-util");
        assert!(
            output.status.success(),
            "softhsm2-util --init-token {label} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let output = Command::new(env::current_exe().expect("test binary"))
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, &test)
        .env(WORK_DIR, &work)
        .env(MODULE, &module)
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("run the test in a child process");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{test} failed against SoftHSM2:\n{text}"
    );
    // A filter that matched nothing would pass without running anything.
    assert!(
        text.contains("1 passed"),
        "{test} did not run in the child process:\n{text}"
    );
}

fn module() -> PathBuf {
    let path = match env::var_os(MODULE) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => MODULE_PATHS
            .iter()
            .map(PathBuf::from)
            .find(|path| path.is_file())
            .unwrap_or_else(|| panic!("{}", missing("libsofthsm2.so"))),
    };
    assert!(path.is_file(), "{}", missing(&path.display().to_string()));
    path
}

fn softhsm2_util() -> PathBuf {
    env::var_os("PATH")
        .and_then(|path| {
            env::split_paths(&path)
                .map(|dir| dir.join("softhsm2-util"))
                .find(|candidate| Path::new(candidate).is_file())
        })
        .unwrap_or_else(|| panic!("{}", missing("softhsm2-util")))
}

fn missing(what: &str) -> String {
    format!(
        "SoftHSM2 is missing ({what} not found): run scripts/test, which installs it and sets \
         {MODULE}"
    )
}
