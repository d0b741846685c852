// Pure operations on an mm's known VMAs: a sorted, non-overlapping array of Mapping.
// Each mirrors what the kernel does to the VMA tree for the syscall (split, replace, move),
// restricted to the mappings the model tracks. Inputs are never mutated.
import type { Mapping } from './state.js';

export const PAGE_SIZE = 4096;

export function pageDown(addr: number): number {
  return addr - (addr % PAGE_SIZE);
}

export function pageUp(addr: number): number {
  const rem = addr % PAGE_SIZE;
  return rem === 0 ? addr : addr + (PAGE_SIZE - rem);
}

function overlaps(m: Mapping, start: number, end: number): boolean {
  return m.start < end && m.end > start;
}

/** m with other bounds, offset or perms: spelled out, as spreads with overrides are slow in V8. */
function reshaped(m: Mapping, start: number, end: number, offset: number, perms: string): Mapping {
  return { start, end, perms, offset, file: m.file, origin: m.origin, fixed: m.fixed, evidence: m.evidence };
}

/** The part of m inside [start, end), with the file offset kept consistent. */
function clip(m: Mapping, start: number, end: number): Mapping {
  const s = Math.max(m.start, start);
  const e = Math.min(m.end, end);
  return s === m.start && e === m.end ? m : reshaped(m, s, e, m.offset + (s - m.start), m.perms);
}

/**
 * Rebuild the set with every mapping that overlaps [start, end) split at the range's edges;
 * `inside` decides what becomes of the part within the range (null drops it).
 */
function rewriteRange(maps: readonly Mapping[], start: number, end: number, inside: (part: Mapping, whole: Mapping) => Mapping | null): readonly Mapping[] {
  if (end <= start || !maps.some((m) => overlaps(m, start, end))) return maps;
  const out: Mapping[] = [];
  for (const m of maps) {
    if (!overlaps(m, start, end)) {
      out.push(m);
      continue;
    }
    if (m.start < start) out.push(clip(m, m.start, start));
    const mid = inside(clip(m, start, end), m);
    if (mid !== null) out.push(mid);
    if (m.end > end) out.push(clip(m, end, m.end));
  }
  return out;
}

/** Remove [start, end) from the set (munmap, or anything that replaces the range). */
export function carve(maps: readonly Mapping[], start: number, end: number): readonly Mapping[] {
  return rewriteRange(maps, start, end, () => null);
}

/** Add a mapping, replacing whatever it overlaps (a MAP_FIXED mmap does exactly that). */
export function insertMapping(maps: readonly Mapping[], m: Mapping): readonly Mapping[] {
  const rest = carve(maps, m.start, m.end);
  const out = rest.slice();
  let i = out.length;
  while (i > 0 && out[i - 1]!.start > m.start) i--;
  out.splice(i, 0, m);
  return out;
}

/** mprotect: new permissions on [start, end), splitting mappings at the edges. */
export function protect(maps: readonly Mapping[], start: number, end: number, prot: number): readonly Mapping[] {
  return rewriteRange(maps, start, end, (part, whole) => reshaped(part, part.start, part.end, part.offset, permsFromProt(prot, whole.perms)));
}

/**
 * mremap: the tracked pieces of [oldStart, oldStart+oldLen) move to newStart with newLen.
 * Whatever was at the destination is replaced — also by untracked (anonymous) memory, which is
 * how a program that copied its text to an anonymous region mremaps it over the original.
 */
export function remap(maps: readonly Mapping[], oldStart: number, oldLen: number, newStart: number, newLen: number): readonly Mapping[] {
  const oldEnd = oldStart + pageUp(oldLen);
  const newEnd = newStart + pageUp(newLen);
  const moving = maps.filter((m) => overlaps(m, oldStart, oldEnd)).map((m) => clip(m, oldStart, oldEnd));
  let out = carve(maps, oldStart, oldEnd);
  out = carve(out, newStart, newEnd);
  const delta = newStart - oldStart;
  for (const m of moving) {
    const s = m.start + delta;
    let e = m.end + delta;
    // Growing extends the last piece that reaches the old end; shrinking cuts at the new end.
    if (m.end === oldEnd && newEnd > e) e = newEnd;
    if (e > newEnd) e = newEnd;
    if (s >= e) continue;
    out = insertMapping(out, reshaped(m, s, e, m.offset, m.perms));
  }
  return out;
}

// The 16 possible answers, built once: every mapping would otherwise hold its own copy.
const PERMS: readonly string[] = Array.from({ length: 16 }, (_, i) => `${i & 1 ? 'r' : '-'}${i & 2 ? 'w' : '-'}${i & 4 ? 'x' : '-'}${i & 8 ? 's' : 'p'}`);

export function permsFromProt(prot: number, previous = '---p'): string {
  return PERMS[(prot & 7) | (previous.endsWith('s') ? 8 : 0)]!;
}

export function isExecutable(m: Mapping): boolean {
  return m.perms.includes('x');
}
