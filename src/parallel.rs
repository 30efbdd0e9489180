//! Scoped threads for reading and compiling a large policy (docs/semantics.md
//! §4.1): independent pieces of work whose results are kept in order, so the
//! compiled policy and its diagnostics are the same on any number of threads.

/// At most this many threads work on one policy.
const MAX_THREADS: usize = 8;

/// How many threads a large piece of work may use: the available
/// parallelism, at most [`MAX_THREADS`].
pub(crate) fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(MAX_THREADS)
}

/// `work` applied to every item, results in the items' order: each item but
/// the last on a scoped thread of its own, the last on the calling thread.
/// An item whose thread cannot be started is worked on the calling thread;
/// a panic in `work` is resumed on the calling thread.
pub(crate) fn map<I: Sync, T: Send>(items: &[I], work: impl Fn(&I) -> T + Sync) -> Vec<T> {
    let Some((last, rest)) = items.split_last() else {
        return Vec::new();
    };
    let work = &work;
    std::thread::scope(|scope| {
        let started: Vec<_> = rest
            .iter()
            .map(|item| {
                let thread = std::thread::Builder::new().spawn_scoped(scope, move || work(item));
                (item, thread)
            })
            .collect();
        let own = work(last);
        let mut out: Vec<T> = started
            .into_iter()
            .map(|(item, thread)| match thread {
                Ok(thread) => thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(_) => work(item),
            })
            .collect();
        out.push(own);
        out
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_items_order() {
        let items: Vec<u32> = (0..9).collect();
        assert_eq!(
            super::map(&items, |i| i * 10),
            (0..9).map(|i| i * 10).collect::<Vec<_>>()
        );
        assert!(super::map(&[] as &[u32], |i| *i).is_empty());
    }
}
