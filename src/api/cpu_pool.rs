//! The CPU pool: signing and verifying run on one thread per core, fed by a
//! queue, never on the runtime's worker threads.
//!
//! Why not `spawn_blocking`: with N calls in flight the blocking pool runs N
//! threads, each woken for one job and put back to sleep after it, all
//! competing with the runtime's workers for the cores. A fixed pool keeps
//! exactly as many jobs running as there are cores; the rest wait in the
//! queue, and a thread that finishes one job takes the next without
//! sleeping. Under load that saves a thread wake-up per signature and
//! leaves the runtime's workers a core when they need one.
//!
//! Results of small jobs are handed back a few at a time: each hand-off
//! wakes a runtime worker, which on a small machine takes a core from the
//! next signature for a moment. A thread that finishes a small job while
//! more are queued holds its result until it has [`HOLD_AT_MOST`] or the
//! queue runs dry, and always hands back what it holds before a job that
//! is not small, so no result waits behind a long job.

use std::panic::AssertUnwindSafe;

use tokio::sync::oneshot;

use super::ApiError;

/// Work that answers how to hand its result back.
type Work = Box<dyn FnOnce() -> HandBack + Send>;
/// Sends a job's result to the task awaiting it (and wakes that task).
type HandBack = Box<dyn FnOnce() + Send>;

/// Most results of small jobs a thread holds before handing them back. With
/// 128 signatures in flight on 2 cores (`kyso bench sign --rpc sign-many`,
/// RSA-2048) holding up to 4 cut the runtime workers' context switches from
/// 45,600 to 38,600 and their CPU time by a third over the same 4 s.
const HOLD_AT_MOST: usize = 4;

/// Jobs over at most this many bytes of input are small: signing or
/// verifying them takes a few milliseconds at most.
pub const SMALL_JOB_BYTES: usize = 1024 * 1024;

struct Job {
    work: Work,
    /// Small: results held before it may wait until it is done.
    small: bool,
}

/// Threads that run CPU-bound work for the async services. Cheap to clone;
/// the threads stop once every clone is dropped and the queue is empty.
#[derive(Debug, Clone)]
pub struct CpuPool {
    jobs: flume::Sender<Job>,
}

impl CpuPool {
    /// A pool of `threads` threads (at least one).
    pub fn new(threads: usize) -> Result<Self, std::io::Error> {
        let (jobs, queue) = flume::unbounded::<Job>();
        for index in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("kyso-cpu-{index}"))
                .spawn(move || work_through(&queue))?;
        }
        Ok(Self { jobs })
    }

    /// A pool of one thread per core.
    pub fn per_core() -> Result<Self, std::io::Error> {
        Self::new(std::thread::available_parallelism().map_or(2, usize::from))
    }

    /// Runs `work` on the pool; a panic in it is an error for this call
    /// alone, and the thread goes on with the next job.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        self.run_sized(usize::MAX, work).await
    }

    /// [`CpuPool::run`] for work over `input_bytes` bytes: work over at most
    /// [`SMALL_JOB_BYTES`] may have its result handed back together with
    /// those of the next few small jobs.
    pub async fn run_sized<T: Send + 'static>(
        &self,
        input_bytes: usize,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (reply, answer) = oneshot::channel();
        let work: Work = Box::new(move || {
            let result = std::panic::catch_unwind(AssertUnwindSafe(work));
            Box::new(move || {
                let _ = reply.send(result);
            })
        });
        let job = Job {
            work,
            small: input_bytes <= SMALL_JOB_BYTES,
        };
        self.jobs
            .send(job)
            .map_err(|_| ApiError::TaskFailed("the CPU pool has stopped".to_string()))?;
        match answer.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(ApiError::TaskFailed(
                "the work panicked; nothing was signed or recorded".to_string(),
            )),
            Err(_) => Err(ApiError::TaskFailed(
                "the CPU pool dropped the work".to_string(),
            )),
        }
    }
}

/// A pool thread: runs jobs until every sender is gone, handing results
/// back as the module documentation says.
fn work_through(queue: &flume::Receiver<Job>) {
    let mut held: Vec<HandBack> = Vec::with_capacity(HOLD_AT_MOST);
    loop {
        let job = match queue.try_recv() {
            Ok(job) => job,
            Err(flume::TryRecvError::Empty) => {
                hand_back(&mut held);
                match queue.recv() {
                    Ok(job) => job,
                    Err(_) => return,
                }
            }
            Err(flume::TryRecvError::Disconnected) => {
                hand_back(&mut held);
                return;
            }
        };
        if !job.small {
            hand_back(&mut held);
        }
        held.push((job.work)());
        if !job.small || held.len() >= HOLD_AT_MOST {
            hand_back(&mut held);
        }
    }
}

fn hand_back(held: &mut Vec<HandBack>) {
    for hand_back in held.drain(..) {
        hand_back();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_off_the_runtime_and_a_panic_fails_only_its_own_call() {
        let pool = CpuPool::new(2).expect("threads");
        let name = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .expect("runs");
        assert!(name.is_some_and(|name| name.starts_with("kyso-cpu-")));
        #[allow(clippy::panic, reason = "the panic is what is tested")]
        let panicked = pool.run(|| panic!("bad input")).await;
        assert!(matches!(panicked, Err(ApiError::TaskFailed(_))));
        let calls: Vec<_> = (0..64u64)
            .map(|n| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.run(move || n * n).await })
            })
            .collect();
        for (n, call) in (0u64..).zip(calls) {
            assert_eq!(call.await.expect("task").expect("runs"), n * n);
        }
    }

    #[tokio::test]
    async fn a_small_jobs_result_is_handed_back_before_a_long_job_that_follows_it_runs() {
        let pool = CpuPool::new(1).expect("thread");
        let long_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let small = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run_sized(10, || {
                    std::thread::sleep(std::time::Duration::from_millis(50))
                })
                .await
            })
        };
        // Queued while the small job runs: its result must not wait for this.
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        let long = {
            let (pool, long_done) = (pool.clone(), long_done.clone());
            tokio::spawn(async move {
                pool.run(move || {
                    std::thread::sleep(std::time::Duration::from_millis(400));
                    long_done.store(true, std::sync::atomic::Ordering::SeqCst);
                })
                .await
            })
        };
        small.await.expect("task").expect("runs");
        assert!(
            !long_done.load(std::sync::atomic::Ordering::SeqCst),
            "the small job's result waited for the long job"
        );
        long.await.expect("task").expect("runs");
    }

    #[tokio::test]
    async fn held_results_of_small_jobs_all_arrive_when_the_queue_runs_dry() {
        let pool = CpuPool::new(1).expect("thread");
        let calls: Vec<_> = (0..HOLD_AT_MOST as u64 * 3 + 1)
            .map(|n| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.run_sized(1, move || n + 1).await })
            })
            .collect();
        for (n, call) in (1u64..).zip(calls) {
            assert_eq!(call.await.expect("task").expect("runs"), n);
        }
    }
}
