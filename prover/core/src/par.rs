//! The only place that knows whether rayon is on: the parallel loops of
//! this crate and of the crates built on it (the circom formats, the
//! phase-2 ceremony). With feature `parallel` they run on rayon's pool,
//! without it on the calling thread, with the same results in the same
//! order.

/// How many workers the parallel helpers use (1 without `parallel`).
#[cfg(feature = "parallel")]
pub fn num_threads() -> usize {
    rayon::current_num_threads().max(1)
}

/// How many workers the parallel helpers use (1 without `parallel`).
#[cfg(not(feature = "parallel"))]
pub fn num_threads() -> usize {
    1
}

/// `(0..n).map(|i| f(&mut scratch, i))` in parallel, one task per index,
/// results in index order. Scratch values come from a pool, so there are
/// only as many as tasks ever ran at once (one per worker), and their
/// buffers are reused from task to task.
#[cfg(feature = "parallel")]
pub fn map_with_scratch<S, T, I, F>(n: usize, init: I, f: F) -> Vec<T>
where
    S: Send,
    T: Send,
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, usize) -> T + Sync + Send,
{
    use rayon::prelude::*;
    let pool = std::sync::Mutex::new(Vec::<S>::new());
    let take = || {
        pool.lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_else(&init)
    };
    (0..n)
        .into_par_iter()
        .with_max_len(1)
        .map(|i| {
            let mut s = take();
            let out = f(&mut s, i);
            if let Ok(mut p) = pool.lock() {
                p.push(s);
            }
            out
        })
        .collect()
}

/// `(0..n).map(|i| f(&mut scratch, i))`, with one scratch value per worker,
/// results in index order.
#[cfg(not(feature = "parallel"))]
pub fn map_with_scratch<S, T, I, F>(n: usize, init: I, f: F) -> Vec<T>
where
    I: Fn() -> S,
    F: Fn(&mut S, usize) -> T,
{
    let mut s = init();
    (0..n).map(|i| f(&mut s, i)).collect()
}

/// Calls `f(chunk_index, chunk)` on consecutive `chunk`-sized pieces of `v`.
#[cfg(feature = "parallel")]
pub fn for_each_chunk_mut<T, F>(v: &mut [T], chunk: usize, f: F)
where
    T: Send,
    F: Fn(usize, &mut [T]) + Sync + Send,
{
    use rayon::prelude::*;
    v.par_chunks_mut(chunk.max(1))
        .enumerate()
        .for_each(|(i, c)| f(i, c));
}

/// Calls `f(chunk_index, chunk)` on consecutive `chunk`-sized pieces of `v`.
#[cfg(not(feature = "parallel"))]
pub fn for_each_chunk_mut<T, F>(v: &mut [T], chunk: usize, f: F)
where
    F: Fn(usize, &mut [T]),
{
    v.chunks_mut(chunk.max(1))
        .enumerate()
        .for_each(|(i, c)| f(i, c));
}

/// Calls `f(i, a_chunk, b_chunk)` on matching `chunk`-sized pieces of `a` and `b`.
#[cfg(feature = "parallel")]
pub fn for_each_chunk_pair_mut<T, F>(a: &mut [T], b: &mut [T], chunk: usize, f: F)
where
    T: Send,
    F: Fn(usize, &mut [T], &mut [T]) + Sync + Send,
{
    use rayon::prelude::*;
    a.par_chunks_mut(chunk.max(1))
        .zip(b.par_chunks_mut(chunk.max(1)))
        .enumerate()
        .for_each(|(i, (x, y))| f(i, x, y));
}

/// Calls `f(i, a_chunk, b_chunk)` on matching `chunk`-sized pieces of `a` and `b`.
#[cfg(not(feature = "parallel"))]
pub fn for_each_chunk_pair_mut<T, F>(a: &mut [T], b: &mut [T], chunk: usize, f: F)
where
    F: Fn(usize, &mut [T], &mut [T]),
{
    a.chunks_mut(chunk.max(1))
        .zip(b.chunks_mut(chunk.max(1)))
        .enumerate()
        .for_each(|(i, (x, y))| f(i, x, y));
}

/// `(0..n).map(f)` in parallel, results in index order.
#[cfg(feature = "parallel")]
pub fn map<T, F>(n: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize) -> T + Sync + Send,
{
    use rayon::prelude::*;
    (0..n).into_par_iter().map(f).collect()
}

/// `(0..n).map(f)`, results in index order.
#[cfg(not(feature = "parallel"))]
pub fn map<T, F>(n: usize, f: F) -> Vec<T>
where
    F: Fn(usize) -> T,
{
    (0..n).map(f).collect()
}

/// Calls `f(i, a, b, c, d)` on matching `chunk`-sized pieces of four slices
/// of equal length.
#[cfg(feature = "parallel")]
pub fn for_each_chunk_quad_mut<T, F>(
    a: &mut [T],
    b: &mut [T],
    c: &mut [T],
    d: &mut [T],
    chunk: usize,
    f: F,
) where
    T: Send,
    F: Fn(usize, &mut [T], &mut [T], &mut [T], &mut [T]) + Sync + Send,
{
    use rayon::prelude::*;
    let k = chunk.max(1);
    a.par_chunks_mut(k)
        .zip(b.par_chunks_mut(k))
        .zip(c.par_chunks_mut(k))
        .zip(d.par_chunks_mut(k))
        .enumerate()
        .for_each(|(i, (((w, x), y), z))| f(i, w, x, y, z));
}

/// Calls `f(i, a, b, c, d)` on matching `chunk`-sized pieces of four slices
/// of equal length.
#[cfg(not(feature = "parallel"))]
pub fn for_each_chunk_quad_mut<T, F>(
    a: &mut [T],
    b: &mut [T],
    c: &mut [T],
    d: &mut [T],
    chunk: usize,
    f: F,
) where
    F: Fn(usize, &mut [T], &mut [T], &mut [T], &mut [T]),
{
    let k = chunk.max(1);
    a.chunks_mut(k)
        .zip(b.chunks_mut(k))
        .zip(c.chunks_mut(k))
        .zip(d.chunks_mut(k))
        .enumerate()
        .for_each(|(i, (((w, x), y), z))| f(i, w, x, y, z));
}

/// Runs `a` and `b`, concurrently on rayon's pool.
#[cfg(feature = "parallel")]
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    rayon::join(a, b)
}

/// Runs `a` then `b`.
#[cfg(not(feature = "parallel"))]
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA,
    B: FnOnce() -> RB,
{
    (a(), b())
}
