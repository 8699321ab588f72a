//! The thread an engine (the scheduler, the poller) runs on: started on `start`, never
//! before, so a forked child starts its own; asked to stop through a watch channel; joined
//! once it has said it finished, so nothing of it is left when `stop` returns true.

use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::watch;

pub struct EngineThread {
    shutdown: watch::Sender<bool>,
    finished: mpsc::Receiver<()>,
    thread: Option<std::thread::JoinHandle<()>>,
    running: bool,
}

impl EngineThread {
    /// Runs `body` on a new thread named `name`; `body` returns once the receiver it is
    /// given says to stop (or on its own), after dropping its runtime and connections.
    pub fn spawn(
        name: &str,
        body: impl FnOnce(watch::Receiver<bool>) + Send + 'static,
    ) -> Result<EngineThread, String> {
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (finished_tx, finished) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                body(shutdown_rx);
                let _ = finished_tx.send(());
            })
            .map_err(|e| format!("cannot start the {name} thread: {e}"))?;
        Ok(EngineThread {
            shutdown,
            finished,
            thread: Some(thread),
            running: true,
        })
    }

    /// Asks the thread to stop and waits up to `timeout` (forever if `None`); true when it
    /// has stopped.
    pub fn stop(&mut self, timeout: Option<Duration>) -> bool {
        let _ = self.shutdown.send(true);
        let stopped = match timeout {
            Some(timeout) => self.finished.recv_timeout(timeout).is_ok(),
            None => self.finished.recv().is_ok(),
        } || !self.running;
        if stopped {
            self.running = false;
            // It has sent its last message: joining waits only for the thread to exit.
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
        stopped
    }

    pub fn is_running(&mut self) -> bool {
        if self.running && !matches!(self.finished.try_recv(), Err(mpsc::TryRecvError::Empty)) {
            self.running = false;
        }
        self.running
    }

    /// Waits for a thread that ended on its own (a failed start).
    pub fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
