//! The one way govops spreads work over the cores: a slice cut into
//! contiguous pieces that workers take in turn, each worker with its own state
//! (a repository handle, a rule engine), results back in the slice's order, and
//! a worker's panic turned into one error rather than a crash or a lost part.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// At most this many workers: beyond it the pieces get too small to pay for
/// the threads and the per-worker state (a repository handle each).
const MAX_WORKERS: usize = 8;

/// How many workers a fan-out uses: the cores, at most `MAX_WORKERS`.
pub fn workers() -> usize {
    // Asked once: in a container the answer reads the cgroup's files under
    // /proc and /sys, a tenth of a millisecond that a hook paid per fan-out.
    static WORKERS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *WORKERS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .min(MAX_WORKERS)
    })
}

/// A worker thread panicked: a bug, reported as a run that could not finish.
#[derive(Debug, Clone, Copy)]
pub struct Panicked(pub &'static str);

impl From<Panicked> for crate::error::Error {
    fn from(p: Panicked) -> Self {
        // Exit 2 with a plain message: no stage's prefix fits a bug.
        crate::error::Error::Rego(format!(
            "{} thread panicked: a bug in govops, please report it",
            p.0
        ))
    }
}

/// How the slice is cut.
#[derive(Debug, Clone, Copy)]
pub enum Pieces {
    /// One contiguous piece per worker: neighbours share caches (files of one
    /// folder share trees), and the per-piece cost is paid once per worker.
    PerWorker,
    /// Pieces of this many items, taken by whichever worker is free: for work
    /// whose items differ in cost.
    Of(usize),
}

/// How to fan out: what the workers are called in an error, below how many
/// items a thread costs more than it saves, and how to cut the slice.
#[derive(Debug, Clone, Copy)]
pub struct Fan {
    pub what: &'static str,
    pub serial_below: usize,
    pub pieces: Pieces,
}

/// Apply `work` to the pieces of `items`, on every core, and return its
/// results in the pieces' order. The calling thread is a worker too, with
/// `first` as its state; each helper thread makes its own with `init`, on
/// its own thread (a `git2::Repository` may not cross threads). The first
/// error in piece order is returned; a panic is `Panicked` converted to `E`.
pub fn map<T, S, R, E>(
    items: &[T],
    fan: Fan,
    first: S,
    init: impl Fn() -> Result<S, E> + Sync,
    work: impl Fn(&mut S, &[T]) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E>
where
    T: Sync,
    R: Send,
    E: Send + From<Panicked>,
{
    let workers = workers();
    let mut first = first;
    if workers == 1 || items.len() < fan.serial_below.max(2) {
        return Ok(vec![work(&mut first, items)?]);
    }
    let size = match fan.pieces {
        Pieces::PerWorker => items.len().div_ceil(workers),
        Pieces::Of(n) => n.max(1),
    };
    let pieces: Vec<&[T]> = items.chunks(size).collect();
    let helpers = (workers - 1).min(pieces.len() - 1);
    let next = AtomicUsize::new(0);
    // Results by piece; a worker stops at its first error, the others stop
    // taking pieces once the counter has run past the end.
    let done: Mutex<Vec<Option<Result<R, E>>>> =
        Mutex::new((0..pieces.len()).map(|_| None).collect());
    let run = |state: &mut S| loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(piece) = pieces.get(i) else {
            return;
        };
        // Caught here, on whichever thread: a panic in the caller's own
        // piece is the same one error as in a helper's.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(state, piece)))
            .unwrap_or_else(|_| Err(Panicked(fan.what).into()));
        let failed = result.is_err();
        if let Ok(mut done) = done.lock() {
            done[i] = Some(result);
        }
        if failed {
            // Nothing after a failure is needed: let every worker stop.
            next.store(pieces.len(), Ordering::Relaxed);
            return;
        }
    };
    let mut panicked = false;
    let mut setup: Option<E> = None;
    std::thread::scope(|scope| {
        let spawned: Vec<_> = (0..helpers)
            .map(|_| {
                scope.spawn(|| -> Result<(), E> {
                    let mut state = init()?;
                    run(&mut state);
                    Ok(())
                })
            })
            .collect();
        run(&mut first);
        for helper in spawned {
            match helper.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => setup = setup.take().or(Some(e)),
                Err(_) => panicked = true,
            }
        }
    });
    if panicked {
        return Err(Panicked(fan.what).into());
    }
    let done = done.into_inner().map_err(|_| Panicked(fan.what))?;
    let mut out = Vec::with_capacity(done.len());
    for result in done {
        match result {
            Some(r) => out.push(r?),
            // A piece nobody took: a worker failed before it, or could not
            // start (its state failed) while the rest stopped early.
            None => return Err(setup.unwrap_or_else(|| Panicked(fan.what).into())),
        }
    }
    Ok(out)
}

/// Work started on another core whose result is needed later (the rule
/// compiler, the staged-changes reader in the hook).
pub struct Task<T> {
    what: &'static str,
    handle: std::thread::JoinHandle<T>,
}

/// Start `f` on another thread; `what` names it if it panics.
pub fn spawn<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Task<T> {
    Task {
        what,
        handle: std::thread::spawn(f),
    }
}

impl<T> Task<T> {
    /// Wait for the result.
    pub fn join(self) -> Result<T, Panicked> {
        self.handle.join().map_err(|_| Panicked(self.what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum E {
        Bad(usize),
        Panic(&'static str),
    }
    impl From<Panicked> for E {
        fn from(p: Panicked) -> Self {
            E::Panic(p.0)
        }
    }

    const FAN: Fan = Fan {
        what: "a test worker",
        serial_below: 0,
        pieces: Pieces::Of(3),
    };

    #[test]
    fn results_come_back_in_order() {
        let items: Vec<usize> = (0..1000).collect();
        for pieces in [Pieces::Of(1), Pieces::Of(7), Pieces::PerWorker] {
            let fan = Fan { pieces, ..FAN };
            let out = map(
                &items,
                fan,
                0,
                || Ok::<_, E>(0),
                |_, p| Ok::<_, E>(p.to_vec()),
            )
            .unwrap();
            assert_eq!(out.concat(), items);
        }
    }

    #[test]
    fn every_worker_keeps_its_state() {
        let items: Vec<usize> = (0..100).collect();
        let out = map(
            &items,
            FAN,
            0usize,
            || Ok::<_, E>(0),
            |seen, p| {
                *seen += p.len();
                Ok::<_, E>(*seen)
            },
        )
        .unwrap();
        // Each worker's count grows over the pieces it took.
        assert_eq!(out.len(), 34);
        assert!(out.iter().all(|n| *n >= 1 && *n <= 100));
    }

    #[test]
    fn the_first_error_in_order_wins() {
        let items: Vec<usize> = (0..100).collect();
        let out = map(
            &items,
            FAN,
            (),
            || Ok::<_, E>(()),
            |_, p| match p.iter().find(|n| **n % 50 == 49) {
                Some(n) => Err(E::Bad(*n)),
                None => Ok(()),
            },
        );
        assert_eq!(out.unwrap_err(), E::Bad(49));
    }

    #[test]
    fn a_panic_is_one_error() {
        let items: Vec<usize> = (0..100).collect();
        let out = map(
            &items,
            FAN,
            (),
            || Ok::<_, E>(()),
            |_, p| {
                if p.contains(&80) {
                    panic!("a bug in one piece");
                }
                Ok::<_, E>(())
            },
        );
        if workers() > 1 {
            assert_eq!(out.unwrap_err(), E::Panic("a test worker"));
        }
    }

    #[test]
    fn a_helper_that_cannot_start_is_an_error_unless_others_did_its_work() {
        let items: Vec<usize> = (0..100).collect();
        let out = map(
            &items,
            FAN,
            (),
            || Err::<(), _>(E::Bad(0)),
            |_, _| Ok::<_, E>(()),
        );
        // The caller takes every piece the helpers could not.
        assert!(out.is_ok());
    }

    #[test]
    fn a_small_slice_stays_on_this_thread() {
        let fan = Fan {
            serial_below: 64,
            ..FAN
        };
        let here = std::thread::current().id();
        let out = map(
            &[1, 2, 3],
            fan,
            (),
            || Ok::<_, E>(()),
            |_, p| {
                assert_eq!(std::thread::current().id(), here);
                Ok::<_, E>(p.len())
            },
        )
        .unwrap();
        assert_eq!(out, vec![3]);
    }
}
