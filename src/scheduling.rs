//! How the operating system schedules the server's threads.
//!
//! `kyso serve` runs its threads under Linux's `SCHED_BATCH` policy unless
//! configured otherwise (`cpu_scheduling = "normal"`). A batch thread that
//! wakes does not preempt the thread running on its core: it waits for the
//! scheduler's next tick (a few milliseconds at most) or for a core to fall
//! idle. This is the policy's documented purpose: a throughput workload
//! whose threads should not preempt one another at every wake-up.
//!
//! Why kyso wants it: under full load both cores sign, and the runtime's
//! threads (HTTP/2, the records writer) wake several times per document.
//! Under the normal policy each wake-up preempts a signature in progress.
//! With batch threads the signatures run on, and the runtime's threads take
//! what has arrived in larger groups. Measured with `kyso bench sign --rpc
//! sign-many --clients 8` (RSA-2048, 2 cores): the signing threads were
//! preempted about 10 times less often and documents/s rose by 4 to 5 %. An
//! idle or lightly loaded server answers as before, since an idle core runs
//! a woken thread at once.
//!
//! The policy is set on the calling thread; threads it starts afterwards
//! inherit it, so `kyso serve` sets it before it starts any thread.

use serde::{Deserialize, Serialize};

/// The scheduling policy of the server's threads, as written in config files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CpuScheduling {
    /// Linux `SCHED_BATCH`: woken threads do not preempt running ones.
    #[default]
    Batch,
    /// The operating system's default policy (`SCHED_OTHER` on Linux).
    Normal,
}

impl std::fmt::Display for CpuScheduling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CpuScheduling::Batch => "batch",
            CpuScheduling::Normal => "normal",
        })
    }
}

/// Why the policy could not be set.
#[derive(Debug, thiserror::Error)]
#[error("cannot set the {policy} scheduling policy: {reason}")]
pub struct SchedulingError {
    policy: CpuScheduling,
    reason: String,
}

/// Sets `policy` on the calling thread, keeping its nice value; threads it
/// starts afterwards inherit both.
#[cfg(target_os = "linux")]
pub fn apply_to_this_thread(policy: CpuScheduling) -> Result<(), SchedulingError> {
    use thread_priority::unix::{
        NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
        thread_native_id,
    };

    let failed = |reason: String| SchedulingError { policy, reason };
    let native = ThreadSchedulePolicy::Normal(match policy {
        CpuScheduling::Batch => NormalThreadSchedulePolicy::Batch,
        CpuScheduling::Normal => NormalThreadSchedulePolicy::Other,
    });
    // Setting a normal policy also sets the nice value, from a priority on
    // the crate's 0–99 scale: pick the priority that keeps the nice value
    // the operator started the server with.
    let nice = rustix::process::getpriority_process(None)
        .map_err(|e| failed(format!("cannot read the nice value: {e}")))?;
    let keeping_nice = priority_keeping(nice, native)
        .ok_or_else(|| failed(format!("no priority keeps nice value {nice}")))?;
    set_thread_priority_and_policy(thread_native_id(), keeping_nice, native)
        .map_err(|e| failed(format!("{e:?}")))
}

/// The priority that `thread_priority` turns into nice value `nice` under
/// `policy`.
#[cfg(target_os = "linux")]
fn priority_keeping(
    nice: i32,
    policy: thread_priority::unix::ThreadSchedulePolicy,
) -> Option<thread_priority::ThreadPriority> {
    use thread_priority::{ThreadPriority, ThreadPriorityValue};
    (0..=u8::from(ThreadPriorityValue::MAX))
        .filter_map(|value| ThreadPriorityValue::try_from(value).ok())
        .map(ThreadPriority::Crossplatform)
        .find(|priority| priority.to_posix(policy).is_ok_and(|posix| posix == nice))
}

/// Sets `policy` on the calling thread: only the normal policy exists here.
#[cfg(not(target_os = "linux"))]
pub fn apply_to_this_thread(policy: CpuScheduling) -> Result<(), SchedulingError> {
    match policy {
        CpuScheduling::Normal => Ok(()),
        CpuScheduling::Batch => Err(SchedulingError {
            policy,
            reason: "SCHED_BATCH exists on Linux only".to_string(),
        }),
    }
}

/// The policy the calling thread runs under, when it is one of kyso's.
#[cfg(target_os = "linux")]
pub fn of_this_thread() -> Option<CpuScheduling> {
    use thread_priority::unix::{
        NormalThreadSchedulePolicy, ThreadSchedulePolicy, thread_schedule_policy,
    };
    match thread_schedule_policy().ok()? {
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch) => {
            Some(CpuScheduling::Batch)
        }
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other) => {
            Some(CpuScheduling::Normal)
        }
        _ => None,
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_thread_set_to_batch_runs_as_batch_and_the_threads_it_starts_inherit_it() {
        let seen = std::thread::spawn(|| {
            apply_to_this_thread(CpuScheduling::Batch).expect("an unprivileged change");
            let child = std::thread::spawn(of_this_thread).join().expect("child");
            let nice = rustix::process::getpriority_process(None).expect("nice");
            (of_this_thread(), child, nice)
        })
        .join()
        .expect("thread");
        let nice_before = rustix::process::getpriority_process(None).expect("nice");
        assert_eq!(seen.0, Some(CpuScheduling::Batch));
        assert_eq!(seen.1, Some(CpuScheduling::Batch));
        assert_eq!(seen.2, nice_before, "the nice value was kept");
        // The test's own thread is untouched.
        assert_eq!(of_this_thread(), Some(CpuScheduling::Normal));
    }

    #[test]
    fn every_nice_value_a_server_may_be_started_with_is_kept() {
        use thread_priority::unix::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};
        for native in [
            NormalThreadSchedulePolicy::Batch,
            NormalThreadSchedulePolicy::Other,
        ] {
            for nice in -20..=19 {
                assert!(
                    priority_keeping(nice, ThreadSchedulePolicy::Normal(native)).is_some(),
                    "nice {nice} under {native:?}"
                );
            }
        }
    }
}
