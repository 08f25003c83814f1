//! The worker pool of `run` and `replay` (`--workers N`).
//!
//! A unit of work is a (family, part) ([`crate::store::lease`]): the
//! family's tenants whose part is the unit's. A worker takes a *group* of
//! one family's units at a time and replays it with an instance of the
//! family's plugin of its own ([`Plugin::fork`]): it reads the family's
//! events in global order and keeps those of its group's tenants, so each
//! tenant's events are applied in order by one worker, and the groups of a
//! family and the families run side by side. Every group reads the whole
//! stream, so a family is split only when the workers outnumber the
//! families, into as many groups as it takes to give every worker one:
//! with as many families as workers or more, a family is one group.
//!
//! A replay deals the groups heaviest first (by the events pending for
//! their family, [`longest_first`]) when there are more of them than
//! workers: the family with the most events does not start last.
//!
//! Each worker is a thread that drives its group's replay on the runtime
//! (`Handle::block_on`), so plugins run in parallel; the apply of each batch
//! is a task of the runtime as always. Every invariant holds per batch as
//! with one worker: checkpoint claims and fences do not care who applies.

use std::collections::{BTreeSet, VecDeque};
use std::future::Future;
use std::sync::{Mutex, PoisonError};

use tokio::runtime::{Handle, RuntimeFlavor};

use crate::plugin::Plugin;
use crate::store::lease::PARTS;

/// `parts` split into at most `n` groups of consecutive parts, none empty.
pub(super) fn groups(parts: &[i32], n: usize) -> Vec<BTreeSet<i32>> {
    let n = n.clamp(1, parts.len().max(1));
    let mut groups = vec![BTreeSet::new(); n];
    for (i, part) in parts.iter().enumerate() {
        groups[i * n / parts.len().max(1)].insert(*part);
    }
    groups.retain(|g| !g.is_empty());
    groups
}

/// Every part.
pub(super) fn all_parts() -> Vec<i32> {
    (0..PARTS).collect()
}

/// The order to deal `weights.len()` items to the workers in: the heaviest
/// first (ties in their own order), so the longest units do not start last
/// and keep one worker busy while the others wait.
pub(super) fn longest_first(weights: &[u64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(weights[i]));
    order
}

/// `plugin` and forks of it: one instance per group.
pub(super) fn instances(plugin: &mut Plugin, n: usize) -> Vec<Plugin> {
    (1..n).map(|_| plugin.fork()).collect()
}

/// Run `work` on every item, at most `workers` at once, each on a thread of
/// its own that drives it on the current runtime; the results in item
/// order. With one worker, one item, or a runtime of one thread, the items
/// run one after another on the caller's task.
pub(super) async fn parallel<T, R, F, Fut>(workers: usize, items: Vec<T>, work: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> Fut + Sync,
    Fut: Future<Output = R>,
{
    let handle = Handle::current();
    if workers <= 1 || items.len() <= 1 || handle.runtime_flavor() != RuntimeFlavor::MultiThread {
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            results.push(work(item).await);
        }
        return results;
    }
    let n = items.len();
    let queue: Mutex<VecDeque<(usize, T)>> = Mutex::new(items.into_iter().enumerate().collect());
    let done: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(n));
    tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            for _ in 0..workers.min(n) {
                scope.spawn(|| {
                    loop {
                        let next = queue
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .pop_front();
                        let Some((i, item)) = next else {
                            break;
                        };
                        let result = handle.block_on(work(item));
                        done.lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push((i, result));
                    }
                });
            }
        });
    });
    let mut done = done.into_inner().unwrap_or_else(PoisonError::into_inner);
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::groups;

    #[test]
    fn the_heaviest_items_are_dealt_first_and_ties_keep_their_order() {
        assert_eq!(
            super::longest_first(&[3, 40, 3, 7, 40]),
            vec![1, 4, 3, 0, 2]
        );
        assert!(super::longest_first(&[]).is_empty());
    }

    #[test]
    fn groups_cover_every_part_once() {
        let parts: Vec<i32> = (0..16).collect();
        for n in [1, 2, 3, 5, 16, 40] {
            let g = groups(&parts, n);
            assert_eq!(g.len(), n.min(16), "{n}");
            let all: Vec<i32> = g.iter().flatten().copied().collect();
            assert_eq!(all, parts, "{n}");
        }
        assert_eq!(groups(&[3, 9], 4).len(), 2);
        assert!(groups(&[], 4).is_empty());
    }

    /// Items run at most `workers` at once, results in item order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parallel_keeps_the_order_and_the_bound() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let out = super::parallel(3, (0..12).collect(), |i: u64| {
            let (running, most) = (&running, &most);
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                i * 2
            }
        })
        .await;
        assert_eq!(out, (0..12).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }
}
