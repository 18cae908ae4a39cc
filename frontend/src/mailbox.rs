//! Where the services' reports wait for the page: the runtime starts before Yew's first render
//! ([`crate::boot`]), when no component is there to hear it yet, so what it says meanwhile (a
//! service connecting, an error, a refusal) is held, in order, and handed over when the page
//! subscribes ([`Mailbox::deliver_to`]); from then on each report goes straight through.

use std::cell::RefCell;
use std::mem;
use std::rc::Rc;

/// A report's way to the page. Cheap to clone: the clones share one box.
pub struct Mailbox<T>(Rc<RefCell<Inbox<T>>>);

enum Inbox<T> {
    /// Nobody listens yet: what is posted waits here.
    Holding(Vec<T>),
    /// The page listens: each report is handed on at once.
    Delivering(Rc<dyn Fn(T)>),
}

impl<T> Mailbox<T> {
    /// A box that holds what is posted until [`Mailbox::deliver_to`].
    pub fn new() -> Self {
        Mailbox(Rc::new(RefCell::new(Inbox::Holding(Vec::new()))))
    }

    /// Hands `report` on to the listener, or holds it until there is one.
    pub fn post(&self, report: T) {
        let listener = match &mut *self.0.borrow_mut() {
            Inbox::Holding(held) => return held.push(report),
            Inbox::Delivering(listener) => listener.clone(),
        };
        // Not borrowed while the listener runs: it may post again.
        listener(report);
    }

    /// What was posted and not yet delivered, in order; the box keeps holding what comes next
    /// (or, delivering, there is never anything held).
    pub fn take_held(&self) -> Vec<T> {
        match &mut *self.0.borrow_mut() {
            Inbox::Holding(held) => mem::take(held),
            Inbox::Delivering(_) => Vec::new(),
        }
    }

    /// From now on every report goes to `listener`. Returns what was held, in order, for the
    /// caller to apply before anything posted later.
    pub fn deliver_to(&self, listener: impl Fn(T) + 'static) -> Vec<T> {
        let before = mem::replace(
            &mut *self.0.borrow_mut(),
            Inbox::Delivering(Rc::new(listener)),
        );
        match before {
            Inbox::Holding(held) => held,
            Inbox::Delivering(_) => Vec::new(),
        }
    }
}

impl<T> Default for Mailbox<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for Mailbox<T> {
    fn clone(&self) -> Self {
        Mailbox(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_in_order_until_someone_listens() {
        let mailbox = Mailbox::new();
        let runtime = mailbox.clone();
        runtime.post(1);
        runtime.post(2);
        let heard = Rc::new(RefCell::new(Vec::new()));
        let ear = heard.clone();
        assert_eq!(
            mailbox.deliver_to(move |n| ear.borrow_mut().push(n)),
            vec![1, 2]
        );
        runtime.post(3);
        assert_eq!(*heard.borrow(), vec![3]);
        assert!(mailbox.take_held().is_empty());
    }

    #[test]
    fn taking_the_held_leaves_it_holding() {
        let mailbox = Mailbox::new();
        mailbox.post("connecting");
        assert_eq!(mailbox.take_held(), vec!["connecting"]);
        mailbox.post("connected");
        assert_eq!(mailbox.deliver_to(|_| {}), vec!["connected"]);
    }

    #[test]
    fn a_listener_may_post_again() {
        let mailbox: Mailbox<u8> = Mailbox::new();
        let heard = Rc::new(RefCell::new(Vec::new()));
        let (again, ear) = (mailbox.clone(), heard.clone());
        mailbox.deliver_to(move |n| {
            ear.borrow_mut().push(n);
            if n == 1 {
                again.post(2);
            }
        });
        mailbox.post(1);
        assert_eq!(*heard.borrow(), vec![1, 2]);
    }
}
