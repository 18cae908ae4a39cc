//! What the client's handler saw, shared with the benchmark's `async` code, and a future that
//! completes when it has seen enough.
//!
//! The handler runs inside the WebSocket's callbacks; it only counts and wakes. The benchmark
//! awaits [`Progress::until`] and never polls in a loop: it resumes once per wake-up.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

#[derive(Default)]
pub struct Progress {
    /// The broker granted the subscription (SUBACK without a failure code).
    pub subscribed: bool,
    /// Messages delivered back on the probe's topic.
    pub received: u32,
    /// The count the benchmark awaits; the handler wakes it no earlier.
    pub wanted: u32,
    /// The first thing that makes the run meaningless: a lost connection, a refused
    /// subscription, a message that is not ours.
    pub failure: Option<String>,
    /// Set by the run's [`crate::deadline::Deadline`].
    pub timed_out: bool,
    waker: Option<Waker>,
}

pub type Shared = Rc<RefCell<Progress>>;

impl Progress {
    /// Records the first failure only: later ones are usually its consequences.
    pub fn fail(&mut self, reason: String) {
        self.failure.get_or_insert(reason);
    }

    /// Wakes the task awaiting [`Progress::until`], if any.
    pub fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    /// Completes once `ready` holds, or with the failure or time-out that came first.
    pub fn until<F: Fn(&Progress) -> bool>(shared: &Shared, ready: F) -> Until<'_, F> {
        Until { shared, ready }
    }
}

pub struct Until<'a, F> {
    shared: &'a Shared,
    ready: F,
}

/// Why a wait ended early; the caller words the message.
pub enum Stop {
    Failed(String),
    TimedOut,
}

impl<F: Fn(&Progress) -> bool> Future for Until<'_, F> {
    type Output = Result<(), Stop>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut progress = self.shared.borrow_mut();
        if let Some(reason) = &progress.failure {
            return Poll::Ready(Err(Stop::Failed(reason.clone())));
        }
        if (self.ready)(&progress) {
            return Poll::Ready(Ok(()));
        }
        if progress.timed_out {
            return Poll::Ready(Err(Stop::TimedOut));
        }
        match &progress.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => progress.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}
