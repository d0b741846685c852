// File identity and the name-based facts about files (loader names, deleted, memfd).
// Identity is (dev, ino) only; names are hints that are never used to prove two files equal.
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
        : { dev: ref.dev, ino: ref.ino, path: ref.pathTruncated ? null : ref.path, name: ref.name || basename(ref.path ?? '') };
    fileIds.set(ref, id);
  }
  return id;
}

export function fileFromMaps(entry: MapsEntry): FileId {
  return { dev: entry.dev, ino: entry.ino, path: entry.path, name: basename(stripDeleted(entry.path)) };
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

export function isDeletedName(path: string | null): boolean {
  return path !== null && path.endsWith(DELETED_SUFFIX);
}

/** memfd files live on the internal shmem mount and are named "/memfd:NAME". */
export function isMemfdName(path: string | null, name?: string): boolean {
  return (path !== null && path.startsWith('/memfd:')) || (name !== undefined && name.startsWith('memfd:'));
}

// glibc: ld-linux.so.2, ld-linux-x86-64.so.2, ld-linux-aarch64.so.1, ld-2.31.so; musl:
// ld-musl-x86_64.so.1; generic ld.so. Matched on the last component only.
const LOADER_NAME = /^(ld-linux[\w.-]*\.so(\.\d+)*|ld\.so(\.\d+)*|ld-musl-[\w.-]+\.so(\.\d+)*|ld-\d+(\.\d+)*\.so)$/;

export function isLoaderName(name: string): boolean {
  return LOADER_NAME.test(stripDeleted(name));
}

/** Shared-library-looking names: used only to pick the loaded program out of a snapshot. */
export function isLibraryName(name: string): boolean {
  return /\.so(\.\d+)*$/.test(stripDeleted(name));
}

/** A maps line is file-backed when it names a file: anonymous, [stack], [vdso] have ino 0. */
export function isFileBacked(entry: MapsEntry): boolean {
  return entry.ino !== 0 && (entry.path.startsWith('/') || entry.path.startsWith('memfd:'));
}

export function answerOf(f: FileId | null): FileAnswer | null {
  return f === null ? null : { path: f.path, name: f.name, dev: f.dev, ino: f.ino };
}

export function walkAnswerOf(m: Mapping | null): WalkAnswer | null {
  return m === null ? null : { path: m.file.path, name: m.file.name, dev: m.file.dev, ino: m.file.ino, address: m.start, perms: m.perms };
}

export function displayName(f: { path: string | null; name: string } | null): string {
  if (f === null) return '(none)';
  return f.path ?? f.name;
}
