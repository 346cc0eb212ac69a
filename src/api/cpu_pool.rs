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

use std::panic::AssertUnwindSafe;

use tokio::sync::oneshot;

use super::ApiError;

type Job = Box<dyn FnOnce() + Send>;

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
                .spawn(move || {
                    while let Ok(job) = queue.recv() {
                        job();
                    }
                })?;
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
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(std::panic::catch_unwind(AssertUnwindSafe(work)));
        });
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
}
