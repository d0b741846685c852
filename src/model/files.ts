// File identity: (dev, ino) only. Paths and names are for display and are never used to prove
// two files equal, nor to decide what a file is (see classify.ts: structure decides).
import type { FileRef, MapsEntry } from '../trace/events.js';
import type { FileAnswer, FileId, WalkAnswer, Mapping } from './state.js';

const DELETED_SUFFIX = ' (deleted)';

// Every mapping, transition and record that names a file shares one FileId per distinct value
// (memory per mm): a trace reader shares FileRefs, but the live decoder and snapshots make a
// new one per event. A fixed-size slot cache keyed by (dev, ino): bounded however many files a
// long session sees, and pure, as a hit returns a FileId equal to what would be built.
const SLOTS = 4096;
const slots: (FileId | undefined)[] = new Array<FileId | undefined>(SLOTS);

function interned(dev: number, ino: number, path: string | null, pathTruncated: boolean, name: string): FileId {
  const at = (Math.imul(ino ^ Math.imul(dev, 0x9e3779b1), 0x85ebca6b) >>> 0) % SLOTS;
  const hit = slots[at];
  if (hit !== undefined && hit.ino === ino && hit.dev === dev && hit.path === path && hit.pathTruncated === pathTruncated && hit.name === name) return hit;
  const id: FileId = { dev, ino, path, pathTruncated, name };
  slots[at] = id;
  return id;
}

export function fileFromRef(ref: FileRef | null): FileId | null {
  if (ref === null) return null;
  // A NULL struct file decodes as dev 0 ino 0: no file.
  if (ref.ino === 0 && ref.dev === 0 && ref.name === '') return null;
  return interned(ref.dev, ref.ino, ref.path, ref.pathTruncated, ref.name || basename(ref.path ?? ''));
}

export function fileFromMaps(entry: MapsEntry): FileId {
  return interned(entry.dev, entry.ino, entry.path, false, basename(stripDeleted(entry.path)));
}

export function sameFile(a: { dev: number; ino: number } | null, b: { dev: number; ino: number } | null): boolean {
  return a !== null && b !== null && a.dev === b.dev && a.ino === b.ino;
}

export function fileKey(f: { dev: number; ino: number }): string {
  return `${f.dev}:${f.ino}`;
}

export function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}

export function stripDeleted(path: string): string {
  return path.endsWith(DELETED_SUFFIX) ? path.slice(0, -DELETED_SUFFIX.length) : path;
}

/** A maps line is file-backed when it names a file: anonymous, [stack], [vdso] have ino 0. */
export function isFileBacked(entry: MapsEntry): boolean {
  return entry.ino !== 0 && entry.path !== '' && !entry.path.startsWith('[');
}

export function answerOf(f: FileId | null): FileAnswer | null {
  return f === null ? null : { path: f.path, pathTruncated: f.pathTruncated, name: f.name, dev: f.dev, ino: f.ino };
}

export function walkAnswerOf(m: Mapping | null): WalkAnswer | null {
  return m === null
    ? null
    : { path: m.file.path, pathTruncated: m.file.pathTruncated, name: m.file.name, dev: m.file.dev, ino: m.file.ino, address: m.start, perms: m.perms };
}

/** A path cut at a bound shows as "…" + what is known of it (its tail). */
export function displayName(f: { path: string | null; name: string; pathTruncated?: boolean } | null): string {
  if (f === null) return '(none)';
  const shown = f.path ?? f.name;
  return f.pathTruncated === true ? `…${shown.startsWith('/') ? '' : '/'}${shown}` : shown;
}
