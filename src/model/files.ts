// File identity: (dev, ino) only. Paths and names are for display and are never used to prove
// two files equal, nor to decide what a file is (see classify.ts: structure decides).
import type { FileRef, MapsEntry } from '../trace/events.js';
import type { FileAnswer, FileId, WalkAnswer, Mapping } from './state.js';

const DELETED_SUFFIX = ' (deleted)';

// The trace reader hands out one FileRef per (file, pointer) and never changes it, so the
// FileId made from it can be shared by every mapping and transition that names it (memory per
// mm). A pure cache: the same ref always gives an equal FileId.
const fileIds = new WeakMap<FileRef, FileId | null>();

export function fileFromRef(ref: FileRef | null): FileId | null {
  if (ref === null) return null;
  let id = fileIds.get(ref);
  if (id === undefined) {
    // A NULL struct file decodes as dev 0 ino 0: no file.
    id =
      ref.ino === 0 && ref.dev === 0 && ref.name === ''
        ? null
        : { dev: ref.dev, ino: ref.ino, path: ref.path, pathTruncated: ref.pathTruncated, name: ref.name || basename(ref.path ?? '') };
    fileIds.set(ref, id);
  }
  return id;
}

export function fileFromMaps(entry: MapsEntry): FileId {
  return { dev: entry.dev, ino: entry.ino, path: entry.path, pathTruncated: false, name: basename(stripDeleted(entry.path)) };
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
