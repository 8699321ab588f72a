//! The hand-off between the poller's thread and the host's execution threads: one queue per
//! pool, which the host's threads wait on (with their runtime lock released) and the poller
//! fills. Closing it gives back what no thread took, so a job is either started or released,
//! never both.

use crate::store::jobs::Job;
use crate::wait::{Interrupt, Monitor};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What a thread waiting for work learned.
#[derive(Debug, PartialEq, Eq)]
pub enum Waited {
    /// A job is waiting (take it with `try_take`; another thread may be quicker).
    Ready,
    /// Nothing before the deadline, or the wait was interrupted.
    Empty,
    /// The poller is shutting down: no more jobs for this pool.
    Closed,
}

#[derive(Default)]
struct State {
    /// Each with when it was queued.
    jobs: VecDeque<(Instant, Job)>,
    closed: bool,
}

#[derive(Default)]
pub struct ReadyQueue {
    state: Monitor<State>,
}

impl ReadyQueue {
    /// Adds jobs; once closed, adds nothing and gives them back.
    pub fn push(&self, jobs: Vec<Job>) -> Result<(), Vec<Job>> {
        self.state.change(jobs.len(), |state| {
            if state.closed {
                return Err(jobs);
            }
            let now = Instant::now();
            state.jobs.extend(jobs.into_iter().map(|job| (now, job)));
            Ok(())
        })
    }

    /// The next job if one is waiting, without blocking.
    pub fn try_take(&self) -> Option<Job> {
        self.state
            .with(|state| state.jobs.pop_front().map(|(_, job)| job))
    }

    /// When the job queued longest was queued.
    pub fn oldest(&self) -> Option<Instant> {
        self.state
            .with(|state| state.jobs.front().map(|(at, _)| *at))
    }

    /// Takes back the jobs queued for `limit` or longer: the pool's threads are busy with
    /// longer jobs than the ones it locked these for, and another process may be idle.
    pub fn reclaim(&self, limit: Duration) -> Vec<Job> {
        self.state.with(|state| {
            let mut taken = Vec::new();
            while state
                .jobs
                .front()
                .is_some_and(|(at, _)| at.elapsed() >= limit)
            {
                taken.extend(state.jobs.pop_front().map(|(_, job)| job));
            }
            taken
        })
    }

    /// Waits until `deadline` (forever if `None`) or `interrupt` for a job, without taking
    /// it. Jobs are taken by `try_take` only, which the host calls holding its runtime lock
    /// (Ruby's GVL): a thread that has just finished a job then takes the next one without
    /// handing the lock to a thread that was woken meanwhile, which would cost a thread
    /// switch per job. A woken thread runs a job only when the running one blocks (I/O) or
    /// has nothing left.
    pub fn wait(&self, deadline: Option<Instant>, interrupt: &Interrupt) -> Waited {
        self.state
            .wait(deadline, interrupt, |state| {
                if !state.jobs.is_empty() {
                    Some(Waited::Ready)
                } else {
                    state.closed.then_some(Waited::Closed)
                }
            })
            .unwrap_or(Waited::Empty)
    }

    /// How many jobs wait for a thread.
    pub fn queued(&self) -> usize {
        self.state.with(|state| state.jobs.len())
    }

    /// Refuses further jobs, wakes every waiting thread, and returns the jobs no thread took.
    pub fn close(&self) -> Vec<Job> {
        self.state.change(usize::MAX, |state| {
            state.closed = true;
            state.jobs.drain(..).map(|(_, job)| job).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use uuid::Uuid;

    fn now() -> Option<Instant> {
        Some(Instant::now())
    }

    fn job() -> Job {
        Job {
            id: Uuid::new_v4(),
            serialized_params: "{}".into(),
            executions_count: 1,
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
                    let interrupt = Interrupt::default();
                    let soon = || Some(Instant::now() + Duration::from_millis(50));
                    while queue.wait(soon(), &interrupt) == Waited::Ready {
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
        assert_eq!(queue.wait(now(), &Interrupt::default()), Waited::Closed);
        assert!(queue.push(vec![job()]).is_err());
    }

    #[test]
    fn a_waiting_thread_wakes_on_push() {
        let queue = Arc::new(ReadyQueue::default());
        let waiter = {
            let queue = Arc::clone(&queue);
            std::thread::spawn(move || queue.wait(None, &Interrupt::default()))
        };
        std::thread::sleep(Duration::from_millis(20));
        queue.push(vec![job()]).unwrap();
        assert_eq!(waiter.join().unwrap(), Waited::Ready);
        assert!(queue.try_take().is_some());
        assert_eq!(queue.wait(now(), &Interrupt::default()), Waited::Empty);
    }

    #[test]
    fn jobs_queued_too_long_are_taken_back_oldest_first() {
        let queue = ReadyQueue::default();
        let first = job();
        let id = first.id;
        queue.push(vec![first]).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        queue.push(vec![job()]).unwrap();
        assert!(queue.reclaim(Duration::from_secs(60)).is_empty());
        let taken = queue.reclaim(Duration::from_millis(20));
        assert_eq!(taken.iter().map(|j| j.id).collect::<Vec<_>>(), vec![id]);
        assert!(queue.try_take().is_some(), "the younger job stays");
        assert_eq!(queue.oldest(), None);
    }
}
