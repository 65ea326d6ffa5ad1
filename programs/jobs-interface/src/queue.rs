//! The market's two-sided FIFO over its entry array: O(1) push, pop, push-front and
//! removal, with entries that keep their index for as long as they are in use.
//!
//! Entries past `used` are never touched (a fresh market is all zeros and needs no set-up
//! per entry); freed entries go on a free list threaded through `next`.

use crate::error::JobsError;
use crate::pod::{eq32, PodU16};
use crate::state::{EntryState, QueueEntry, QueueHeader, QueueSide, NIL};

pub struct Queue<'a> {
    pub header: &'a mut QueueHeader,
    pub entries: &'a mut [QueueEntry],
}

impl<'a> Queue<'a> {
    /// A queue with nothing in it and no entry used.
    pub fn init(header: &mut QueueHeader) {
        header.side.set(QueueSide::Empty);
        header.len.set(0);
        header.head.set(NIL);
        header.tail.set(NIL);
        header.free_head.set(NIL);
        header.used.set(0);
    }

    #[inline(always)]
    pub fn side(&self) -> QueueSide {
        self.header.side.get().unwrap_or(QueueSide::Empty)
    }

    /// The entry at `index`, if it is inside the array.
    #[inline(always)]
    pub fn entry(&mut self, index: u16) -> Result<&mut QueueEntry, JobsError> {
        self.entries.get_mut(index as usize).ok_or(JobsError::SlotInvalid)
    }

    /// Takes an unused entry: the free list first, then the never-used tail of the array.
    #[inline(always)]
    pub fn alloc(&mut self) -> Result<u16, JobsError> {
        let free = self.header.free_head.get();
        if free != NIL {
            let next = self.entry(free)?.next.get();
            self.header.free_head.set(next);
            return Ok(free);
        }
        let used = self.header.used.get();
        if (used as usize) >= self.entries.len() {
            return Err(JobsError::QueueFull);
        }
        // `used < len <= MAX_CAPACITY < u16::MAX`: no overflow.
        self.header.used.set(used + 1);
        Ok(used)
    }

    /// Returns an entry that is not linked in the queue to the free list.
    #[inline(always)]
    pub fn free(&mut self, index: u16) -> Result<(), JobsError> {
        let free_head = self.header.free_head.get();
        let entry = self.entry(index)?;
        *entry = QueueEntry::default();
        entry.prev.set(NIL);
        entry.next.set(free_head);
        self.header.free_head.set(index);
        Ok(())
    }

    /// Links `index` at the back; the queue must be empty or hold the same side.
    #[inline(always)]
    pub fn push_back(&mut self, index: u16, side: QueueSide) -> Result<(), JobsError> {
        let tail = self.header.tail.get();
        {
            let entry = self.entry(index)?;
            entry.prev.set(tail);
            entry.next.set(NIL);
        }
        if tail == NIL {
            self.header.head.set(index);
        } else {
            self.entry(tail)?.next.set(index);
        }
        self.header.tail.set(index);
        self.linked(side)
    }

    /// Links `index` at the front (a job going back to the queue keeps its priority).
    #[inline(always)]
    pub fn push_front(&mut self, index: u16, side: QueueSide) -> Result<(), JobsError> {
        let head = self.header.head.get();
        {
            let entry = self.entry(index)?;
            entry.prev.set(NIL);
            entry.next.set(head);
        }
        if head == NIL {
            self.header.tail.set(index);
        } else {
            self.entry(head)?.prev.set(index);
        }
        self.header.head.set(index);
        self.linked(side)
    }

    /// Unlinks the front entry and returns its index, or None if the queue is empty.
    #[inline(always)]
    pub fn pop_front(&mut self) -> Result<Option<u16>, JobsError> {
        let head = self.header.head.get();
        if head == NIL {
            return Ok(None);
        }
        self.unlink(head)?;
        Ok(Some(head))
    }

    /// The first linked entry, front to back, whose `node` is not `node`: in a queue of
    /// jobs, the oldest job that `node` did not last give up (a QueuedJob's `node` names
    /// that node); in a queue of nodes, the longest-waiting entry of another node. None
    /// when every linked entry names `node`. Walks only past entries that name `node`.
    #[inline(always)]
    pub fn first_not_of(&self, node: &[u8; 32]) -> Result<Option<u16>, JobsError> {
        let mut index = self.header.head.get();
        while index != NIL {
            let entry = self.entries.get(index as usize).ok_or(JobsError::SlotInvalid)?;
            if !eq32(&entry.node.0, node) {
                return Ok(Some(index));
            }
            index = entry.next.get();
        }
        Ok(None)
    }

    /// Unlinks `index`, which the caller has checked is linked (its state is Queued*).
    #[inline(always)]
    pub fn unlink(&mut self, index: u16) -> Result<(), JobsError> {
        let (prev, next) = {
            let entry = self.entry(index)?;
            let links = (entry.prev.get(), entry.next.get());
            entry.prev.set(NIL);
            entry.next.set(NIL);
            links
        };
        if prev == NIL {
            self.header.head.set(next);
        } else {
            self.entry(prev)?.next.set(next);
        }
        if next == NIL {
            self.header.tail.set(prev);
        } else {
            self.entry(next)?.prev.set(prev);
        }
        // A linked entry exists, so len >= 1.
        let len = self.header.len.get().saturating_sub(1);
        self.header.len.set(len);
        if len == 0 {
            self.header.side.set(QueueSide::Empty);
        }
        Ok(())
    }

    #[inline(always)]
    fn linked(&mut self, side: QueueSide) -> Result<(), JobsError> {
        // len counts linked entries, at most the capacity (< u16::MAX).
        let len = self.header.len.get();
        self.header.len = PodU16::new(len + 1);
        self.header.side.set(side);
        Ok(())
    }
}

/// Sets an entry's content (its links are left alone).
#[inline(always)]
pub fn fill(entry: &mut QueueEntry, state: EntryState, job: &[u8; 32], node: &[u8; 32], since: i64) {
    entry.state.set(state);
    entry.job.0 = *job;
    entry.node.0 = *node;
    entry.since.set(since);
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::collections::VecDeque;
    use std::vec::Vec;

    fn key(n: u8) -> [u8; 32] {
        [n; 32]
    }

    /// The queue against a VecDeque model, over a long pseudo-random sequence.
    #[test]
    fn matches_a_deque_model() {
        let mut header = QueueHeader::default();
        Queue::init(&mut header);
        let mut entries: Vec<QueueEntry> = (0..16).map(|_| QueueEntry::default()).collect();
        let mut model: VecDeque<u16> = VecDeque::new();
        let mut seed: u32 = 12345;
        for step in 0..20_000u32 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let op = (seed >> 16) % 4;
            let mut q = Queue { header: &mut header, entries: &mut entries };
            match op {
                0 | 1 => match q.alloc() {
                    Ok(i) => {
                        fill(q.entry(i).unwrap(), EntryState::QueuedJob, &key(i as u8), &key(0), step as i64);
                        if op == 0 { q.push_back(i, QueueSide::Jobs).unwrap(); model.push_back(i); }
                        else { q.push_front(i, QueueSide::Jobs).unwrap(); model.push_front(i); }
                    }
                    Err(e) => { assert_eq!(e, JobsError::QueueFull); assert_eq!(model.len(), 16); }
                },
                2 => {
                    let got = q.pop_front().unwrap();
                    assert_eq!(got, model.pop_front());
                    if let Some(i) = got { q.free(i).unwrap(); }
                }
                _ => {
                    if !model.is_empty() {
                        let pos = (seed as usize >> 8) % model.len();
                        let i = model.remove(pos).unwrap();
                        q.unlink(i).unwrap();
                        q.free(i).unwrap();
                    }
                }
            }
            assert_eq!(header.len.get() as usize, model.len());
            assert_eq!(header.side.get() == Some(QueueSide::Empty), model.is_empty());
            // Walk front to back and back to front.
            let mut walk = Vec::new();
            let mut i = header.head.get();
            while i != NIL { walk.push(i); i = entries[i as usize].next.get(); }
            assert_eq!(walk, model.iter().copied().collect::<Vec<_>>());
            let mut back = Vec::new();
            let mut i = header.tail.get();
            while i != NIL { back.push(i); i = entries[i as usize].prev.get(); }
            back.reverse();
            assert_eq!(back, walk);
        }
    }
}
