//! A channel from an engine to its host whose receiver waits as `wait::Monitor` does, so that
//! the host's runtime can interrupt it (std's mpsc receivers cannot be woken from outside).

use crate::wait::{Interrupt, Monitor};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

struct Mail<T> {
    items: VecDeque<T>,
    senders: usize,
    receiving: bool,
}

pub struct Sender<T>(Arc<Monitor<Mail<T>>>);

pub struct Receiver<T>(Arc<Monitor<Mail<T>>>);

/// What a receiver got.
#[derive(Debug, PartialEq, Eq)]
pub enum Received<T> {
    Item(T),
    /// Nothing yet: the deadline passed, or the wait was interrupted.
    Empty,
    /// Every sender is gone and every item was taken.
    Closed,
}

pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let mail = Arc::new(Monitor::new(Mail {
        items: VecDeque::new(),
        senders: 1,
        receiving: true,
    }));
    (Sender(Arc::clone(&mail)), Receiver(mail))
}

impl<T> Sender<T> {
    /// Queues `item`; gives it back if the receiver is gone.
    pub fn send(&self, item: T) -> Result<(), T> {
        self.0.change(1, |mail| {
            if !mail.receiving {
                return Err(item);
            }
            mail.items.push_back(item);
            Ok(())
        })
    }
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("mailbox::Sender")
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.0.with(|mail| mail.senders += 1);
        Sender(Arc::clone(&self.0))
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.0.change(usize::MAX, |mail| mail.senders -= 1);
    }
}

impl<T> Receiver<T> {
    /// The next item, waiting until `deadline` (forever if `None`) or `interrupt`.
    pub fn recv(&self, deadline: Option<Instant>, interrupt: &Interrupt) -> Received<T> {
        self.0
            .wait(deadline, interrupt, |mail| match mail.items.pop_front() {
                Some(item) => Some(Received::Item(item)),
                None => (mail.senders == 0).then_some(Received::Closed),
            })
            .unwrap_or(Received::Empty)
    }

    /// The next item if there is one, without waiting.
    pub fn try_recv(&self) -> Received<T> {
        self.recv(Some(Instant::now()), &Interrupt::default())
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let left = self.0.with(|mail| {
            mail.receiving = false;
            std::mem::take(&mut mail.items)
        });
        // Items may own senders of this very channel: dropped outside its lock.
        drop(left);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn items_come_in_order_then_closed_once_every_sender_is_gone() {
        let (tx, rx) = channel();
        let other = tx.clone();
        tx.send(1).unwrap();
        other.send(2).unwrap();
        drop(tx);
        assert_eq!(rx.try_recv(), Received::Item(1));
        assert_eq!(rx.try_recv(), Received::Item(2));
        assert_eq!(rx.try_recv(), Received::Empty);
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            drop(other);
        });
        assert_eq!(rx.recv(None, &Interrupt::default()), Received::Closed);
        sender.join().unwrap();
    }

    #[test]
    fn a_send_to_a_dropped_receiver_gives_the_item_back() {
        let (tx, rx) = channel();
        drop(rx);
        assert_eq!(tx.send(3), Err(3));
    }
}
