//! Prepared signatures waiting for a value made by a key kyso never holds,
//! in memory, by handle. Bounded in number and in bytes (each holds a whole
//! PDF), forgotten after [`KEPT`]; a handle completes once.

use crate::api::ApiError;
use crate::keystore::SignerRole;
use crate::records::DocumentId;
use crate::sign::PreparedSignature;
use crate::units::UnitCode;
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// How long a prepared signature waits for its value: long enough for a
/// leader to plug in a token and type a PIN, short enough that abandoned
/// ones do not pile up.
pub const KEPT: Duration = Duration::from_secs(5 * 60);
/// At most this many prepared signatures wait at once.
pub const MAX_WAITING: usize = 1_000;
/// At most this many bytes of prepared PDFs wait at once.
pub const MAX_WAITING_BYTES: usize = 512 << 20;
/// Completed and expired handles are remembered this long, to say so.
const REMEMBERED: Duration = Duration::from_secs(60 * 60);
/// …and at most this many of them (the oldest are forgotten first).
const MAX_REMEMBERED: usize = 10_000;
/// Random bytes in a handle (256 bits).
const HANDLE_BYTES: usize = 32;

/// A prepared signature and what the ledger records once it completes.
#[derive(Debug)]
pub(super) struct Waiting {
    /// The reserved signature.
    pub prepared: PreparedSignature,
    /// The document's unit.
    pub unit: UnitCode,
    /// Organisation or leader.
    pub role: SignerRole,
    /// The caller's document id.
    pub document_id: DocumentId,
    /// When the handle stops being accepted.
    pub expires_at: SystemTime,
}

/// What became of a handle no longer waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spent {
    Completed,
    Expired,
}

#[derive(Default)]
struct Inner {
    waiting: HashMap<String, Waiting>,
    bytes: usize,
    spent: HashMap<String, Spent>,
    /// Spent handles in the order they were spent, with when.
    spent_order: VecDeque<(String, SystemTime)>,
}

impl Inner {
    /// Moves expired prepared signatures to the spent handles, and forgets
    /// spent handles past [`REMEMBERED`].
    fn sweep(&mut self, now: SystemTime) {
        let expired: Vec<String> = self
            .waiting
            .iter()
            .filter(|(_, waiting)| waiting.expires_at <= now)
            .map(|(handle, _)| handle.clone())
            .collect();
        for handle in expired {
            if let Some(waiting) = self.waiting.remove(&handle) {
                self.bytes -= waiting.prepared.size();
            }
            self.spend(handle, Spent::Expired, now);
        }
        while let Some((handle, at)) = self.spent_order.front() {
            let old = now.duration_since(*at).is_ok_and(|age| age > REMEMBERED);
            if !old && self.spent_order.len() <= MAX_REMEMBERED {
                break;
            }
            self.spent.remove(handle);
            self.spent_order.pop_front();
        }
    }

    fn spend(&mut self, handle: String, how: Spent, now: SystemTime) {
        self.spent.insert(handle.clone(), how);
        self.spent_order.push_back((handle, now));
    }
}

/// The prepared signatures of one server.
pub(super) struct PreparedStore {
    inner: Mutex<Inner>,
    random: SystemRandom,
}

impl fmt::Debug for PreparedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the handles: they are bearer capabilities.
        f.debug_struct("PreparedStore").finish_non_exhaustive()
    }
}

impl PreparedStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            random: SystemRandom::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent maps behind.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps `waiting` under a new random handle, unless the limits are reached.
    pub fn insert(&self, waiting: Waiting, now: SystemTime) -> Result<String, ApiError> {
        let mut bytes = [0u8; HANDLE_BYTES];
        self.random
            .fill(&mut bytes)
            .map_err(|_| ApiError::TaskFailed("the system random generator failed".into()))?;
        let handle: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let size = waiting.prepared.size();
        let mut inner = self.lock();
        inner.sweep(now);
        if inner.waiting.len() >= MAX_WAITING || inner.bytes + size > MAX_WAITING_BYTES {
            return Err(ApiError::TooManyPrepared {
                count: inner.waiting.len(),
                bytes: inner.bytes,
                max_count: MAX_WAITING,
                max_bytes: MAX_WAITING_BYTES,
            });
        }
        inner.bytes += size;
        inner.waiting.insert(handle.clone(), waiting);
        Ok(handle)
    }

    /// Takes the prepared signature of `handle` out, to complete it; nobody
    /// else can take it meanwhile. Give it back with [`Self::restore`] if the
    /// completion fails in a way the caller can retry.
    pub fn take(&self, handle: &str, now: SystemTime) -> Result<Waiting, ApiError> {
        let mut inner = self.lock();
        inner.sweep(now);
        if let Some(waiting) = inner.waiting.remove(handle) {
            inner.bytes -= waiting.prepared.size();
            inner.spend(handle.to_string(), Spent::Completed, now);
            return Ok(waiting);
        }
        let handle = handle.to_string();
        Err(match inner.spent.get(&handle) {
            Some(Spent::Completed) => ApiError::HandleUsed { handle },
            Some(Spent::Expired) => ApiError::HandleExpired {
                handle,
                kept_seconds: KEPT.as_secs(),
            },
            None => ApiError::UnknownHandle { handle },
        })
    }

    /// Puts back a prepared signature whose completion failed, so the
    /// caller can retry until it expires.
    pub fn restore(&self, handle: &str, waiting: Waiting, now: SystemTime) {
        let mut inner = self.lock();
        inner.spent.remove(handle);
        if waiting.expires_at <= now {
            inner.spend(handle.to_string(), Spent::Expired, now);
            return;
        }
        inner.bytes += waiting.prepared.size();
        inner.waiting.insert(handle.to_string(), waiting);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::testing::{leader_key, now, one_page_pdf};
    use crate::sign::{SignOptions, SignerProfile, prepare};
    use std::sync::Arc;

    fn profile() -> Arc<SignerProfile> {
        let (_, chain) = leader_key();
        Arc::new(SignerProfile::for_external_key(&chain).expect("profile"))
    }

    fn waiting_for(profile: &Arc<SignerProfile>) -> Waiting {
        Waiting {
            prepared: prepare(&one_page_pdf(), profile, &SignOptions::default(), now())
                .expect("prepare"),
            unit: UnitCode::parse("000.00.01.H23").expect("code"),
            role: SignerRole::Organisation,
            document_id: DocumentId::parse("d1").expect("id"),
            expires_at: now() + KEPT,
        }
    }

    fn waiting() -> Waiting {
        waiting_for(&profile())
    }

    #[test]
    fn a_handle_is_taken_once_then_said_to_be_used() {
        let store = PreparedStore::new();
        let handle = store.insert(waiting(), now()).expect("insert");
        assert_eq!(handle.len(), 2 * HANDLE_BYTES);
        store.take(&handle, now()).expect("first take");
        assert!(matches!(
            store.take(&handle, now()),
            Err(ApiError::HandleUsed { .. })
        ));
        assert!(matches!(
            store.take("00", now()),
            Err(ApiError::UnknownHandle { .. })
        ));
    }

    #[test]
    fn a_restored_handle_can_be_taken_again_until_it_expires() {
        let store = PreparedStore::new();
        let handle = store.insert(waiting(), now()).expect("insert");
        let taken = store.take(&handle, now()).expect("take");
        store.restore(&handle, taken, now());
        store
            .take(&handle, now())
            .expect("taken again after restore");

        let handle = store.insert(waiting(), now()).expect("insert");
        let later = now() + KEPT + Duration::from_secs(1);
        assert!(matches!(
            store.take(&handle, later),
            Err(ApiError::HandleExpired { .. })
        ));
    }

    #[test]
    fn the_number_of_waiting_signatures_is_bounded() {
        let store = PreparedStore::new();
        let profile = profile();
        for _ in 0..MAX_WAITING {
            store
                .insert(waiting_for(&profile), now())
                .expect("within the bound");
        }
        assert!(matches!(
            store.insert(waiting_for(&profile), now()),
            Err(ApiError::TooManyPrepared { .. })
        ));
    }
}
