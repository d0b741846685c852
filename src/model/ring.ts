// A persistent bounded log: append-only, oldest entries fall off past a cap. Appending copies
// at most one chunk's tail and, once per chunk, the list of chunks — O(1) amortised whatever
// the total — and never touches an earlier version (the reducer's input stays intact).
// Consumers read it through ringItems / ringSince, which see exactly the newest `cap` entries.

const CHUNK = 64;

export interface Ring<T> {
  /** Full chunks, oldest first; each is frozen in practice (never written after it is full). */
  readonly chunks: readonly (readonly T[])[];
  /** The chunk being filled. */
  readonly tail: readonly T[];
  /** Sequence number (0-based over every entry ever appended) of chunks[0][0]. */
  readonly base: number;
  /** Entries ever appended. */
  readonly total: number;
}

export function emptyRing<T>(): Ring<T> {
  return { chunks: [], tail: [], base: 0, total: 0 };
}

export function ringPush<T>(r: Ring<T>, item: T, cap: number): Ring<T> {
  const tail = [...r.tail, item];
  if (tail.length < CHUNK) return { chunks: r.chunks, tail, base: r.base, total: r.total + 1 };
  let chunks = [...r.chunks, tail];
  let base = r.base;
  // Keep whole chunks covering the newest `cap` entries; older chunks are dropped.
  const total = r.total + 1;
  while (chunks.length > 0 && base + chunks[0]!.length <= total - cap) {
    base += chunks[0]!.length;
    chunks = chunks.slice(1);
  }
  return { chunks, tail: [], base, total };
}

/** Entries with sequence number >= from, oldest first, among the newest `cap`. */
export function ringSince<T>(r: Ring<T>, from: number, cap: number): T[] {
  const start = Math.max(from, r.total - cap, r.base);
  const out: T[] = [];
  if (start >= r.total) return out;
  let seq = r.base;
  for (const chunk of r.chunks) {
    if (seq + chunk.length > start) for (let i = Math.max(0, start - seq); i < chunk.length; i++) out.push(chunk[i]!);
    seq += chunk.length;
  }
  for (let i = Math.max(0, start - seq); i < r.tail.length; i++) out.push(r.tail[i]!);
  return out;
}

/** The newest `cap` entries, oldest first. */
export function ringItems<T>(r: Ring<T>, cap: number): T[] {
  return ringSince(r, 0, cap);
}
