//! The hand-off between the poller's thread and the host's execution threads: one queue per
//! pool, which the host's threads wait on (with their runtime lock released) and the poller
//! fills. Closing it gives back what no thread took, so a job is either started or released,
//! never both.
//!
//! Threads are woken sparingly. Ruby runs one thread at a time (the GVL), and each thread
//! that takes a job a running thread could have taken next makes every later blocking call
//! (a log line) a thread switch. So the thread that finished a job takes the next one, and an
//! idle thread is given one only when the queue is *stalled*: no job running, or none taken
//! for `STALL`, which means the running ones are blocked (I/O) and another thread can use
//! the GVL meanwhile. A push wakes an idle thread when stalled; `nudge` wakes one more while
//! jobs wait and none is taken.

use crate::store::jobs::Job;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What a thread waiting for work learned.
#[derive(Debug, PartialEq, Eq)]
pub enum Waited {
    /// A job is waiting and the queue is stalled: take it with `try_take` (another thread
    /// may be quicker).
    Ready,
    /// Nothing within the timeout.
    Empty,
    /// The poller is shutting down: no more jobs for this pool.
    Closed,
}

/// How long queued jobs may go untaken before another thread is woken.
pub const STALL: Duration = Duration::from_millis(2);

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    closed: bool,
    /// Jobs taken and not yet `done`.
    running: usize,
    last_take: Option<Instant>,
}

impl State {
    fn stalled(&self) -> bool {
        self.running == 0 || self.last_take.is_none_or(|at| at.elapsed() >= STALL)
    }
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
        state.jobs.extend(jobs);
        let wake = state.stalled();
        drop(state);
        if wake {
            self.filled.notify_one();
        }
        Ok(())
    }

    /// Wakes one more thread if jobs have waited `STALL` with none taken; whether jobs wait
    /// (so the poller nudges again later).
    pub fn nudge(&self) -> bool {
        let state = self.state();
        let waiting = !state.jobs.is_empty();
        if waiting && state.stalled() {
            drop(state);
            self.filled.notify_one();
        }
        waiting
    }

    /// The next job if one is waiting, without blocking: for the thread that just finished
    /// one, or one that `wait` said is wanted.
    pub fn try_take(&self) -> Option<Job> {
        let mut state = self.state();
        let job = state.jobs.pop_front();
        if job.is_some() {
            state.running += 1;
            state.last_take = Some(Instant::now());
        }
        job
    }

    /// A job taken from this queue has ended.
    pub fn done(&self) {
        let mut state = self.state();
        state.running = state.running.saturating_sub(1);
    }

    /// Waits up to `timeout` until a job waits in a stalled queue, without taking it: jobs
    /// are taken by `try_take`, which the host calls holding its runtime lock (Ruby's GVL).
    pub fn wait(&self, timeout: Duration) -> Waited {
        let deadline = Instant::now() + timeout;
        let mut state = self.state();
        loop {
            if !state.jobs.is_empty() && state.stalled() {
                return Waited::Ready;
            }
            if state.closed {
                return Waited::Closed;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Waited::Empty;
            }
            // Jobs wait while others run: look again once they may have stalled.
            let left = if state.jobs.is_empty() {
                left
            } else {
                left.min(STALL)
            };
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
                        if let Some(job) = queue.try_take() {
                            taken.push(job.id);
                            queue.done();
                        }
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

    #[test]
    fn an_idle_thread_is_wanted_only_when_the_running_ones_stall() {
        let queue = ReadyQueue::default();
        queue.push(vec![job(), job()]).unwrap();
        assert_eq!(queue.wait(Duration::ZERO), Waited::Ready, "nothing runs");
        assert!(queue.try_take().is_some());
        assert_eq!(
            queue.wait(Duration::ZERO),
            Waited::Empty,
            "a job was just taken: its thread takes the next one"
        );
        assert_eq!(
            queue.wait(STALL * 2),
            Waited::Ready,
            "no job taken for STALL: the running one is blocked"
        );
        queue.done();
        assert!(queue.try_take().is_some());
        queue.done();
        assert!(!queue.nudge(), "nothing waits");
    }
}
