//! The hand-off between the poller's thread and the host's execution threads: one queue per
//! pool, which the host's threads wait on (with their runtime lock released) and the poller
//! fills. Closing it gives back what no thread took, so a job is either started or released,
//! never both.

use crate::store::jobs::Job;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What a thread waiting for work learned.
#[derive(Debug, PartialEq, Eq)]
pub enum Waited {
    /// A job is waiting (take it with `try_take`; another thread may be quicker).
    Ready,
    /// Nothing within the timeout.
    Empty,
    /// The poller is shutting down: no more jobs for this pool.
    Closed,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    closed: bool,
}

#[derive(Default)]
pub struct ReadyQueue {
    state: Mutex<State>,
    filled: Condvar,
}

impl ReadyQueue {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking holder leaves plain data behind: still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds jobs; false (and nothing added) once closed.
    pub fn push(&self, jobs: Vec<Job>) -> Result<(), Vec<Job>> {
        let mut state = self.state();
        if state.closed {
            return Err(jobs);
        }
        let count = jobs.len();
        state.jobs.extend(jobs);
        drop(state);
        for _ in 0..count {
            self.filled.notify_one();
        }
        Ok(())
    }

    /// The next job if one is waiting, without blocking.
    pub fn try_take(&self) -> Option<Job> {
        self.state().jobs.pop_front()
    }

    /// Waits up to `timeout` for a job, without taking it. Jobs are taken by `try_take`
    /// only, which the host calls holding its runtime lock (Ruby's GVL): a thread that has
    /// just finished a job then takes the next one without handing the lock to a thread that
    /// was woken meanwhile, which would cost a thread switch per job. A woken thread runs a
    /// job only when the running one blocks (I/O) or has nothing left.
    pub fn wait(&self, timeout: Duration) -> Waited {
        let deadline = Instant::now() + timeout;
        let mut state = self.state();
        loop {
            if !state.jobs.is_empty() {
                return Waited::Ready;
            }
            if state.closed {
                return Waited::Closed;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Waited::Empty;
            }
            state = self
                .filled
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// How many jobs wait for a thread.
    pub fn queued(&self) -> usize {
        self.state().jobs.len()
    }

    /// Refuses further jobs, wakes every waiting thread, and returns the jobs no thread took.
    pub fn close(&self) -> Vec<Job> {
        let mut state = self.state();
        state.closed = true;
        let left = state.jobs.drain(..).collect();
        drop(state);
        self.filled.notify_all();
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use uuid::Uuid;

    fn job() -> Job {
        Job {
            id: Uuid::new_v4(),
            serialized_params: "{}".into(),
            queue_name: None,
            job_class: None,
        }
    }

    #[test]
    fn a_job_is_either_taken_or_given_back() {
        let queue = Arc::new(ReadyQueue::default());
        let jobs: Vec<Job> = (0..1000).map(|_| job()).collect();
        let ids: Vec<Uuid> = jobs.iter().map(|j| j.id).collect();
        queue.push(jobs).unwrap();
        let takers: Vec<_> = (0..4)
            .map(|_| {
                let queue = Arc::clone(&queue);
                std::thread::spawn(move || {
                    let mut taken = Vec::new();
                    while queue.wait(Duration::from_millis(50)) == Waited::Ready {
                        taken.extend(queue.try_take().map(|job| job.id));
                    }
                    taken
                })
            })
            .collect();
        let mut seen = queue.close().into_iter().map(|j| j.id).collect::<Vec<_>>();
        for taker in takers {
            seen.extend(taker.join().unwrap());
        }
        seen.sort();
        let mut expected = ids;
        expected.sort();
        assert_eq!(seen, expected);
        assert_eq!(queue.wait(Duration::ZERO), Waited::Closed);
        assert!(queue.push(vec![job()]).is_err());
    }

    #[test]
    fn a_waiting_thread_wakes_on_push() {
        let queue = Arc::new(ReadyQueue::default());
        let waiter = {
            let queue = Arc::clone(&queue);
            std::thread::spawn(move || queue.wait(Duration::from_secs(30)))
        };
        std::thread::sleep(Duration::from_millis(20));
        queue.push(vec![job()]).unwrap();
        assert_eq!(waiter.join().unwrap(), Waited::Ready);
        assert!(queue.try_take().is_some());
        assert_eq!(queue.wait(Duration::ZERO), Waited::Empty);
    }
}
