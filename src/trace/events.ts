// The typed event stream: the one contract between the probes (through the decoder),
// the recorder, the trace files and the model. Every probe flavor produces these.
// The types are derived from the event schema (event-schema.ts, where each field is documented),
// so the validator and the types cannot drift apart; the import is type-only, so the model,
// which imports this file alone, loads nothing but the name lists at run time.
import type { Static } from '@sinclair/typebox';
import type * as S from './event-schema.js';
import { ELF_KINDS, EXE_READ_SYSCALLS, HUGETLBFS_MAGIC, OVERLAYFS_MAGIC, SNAPSHOT_REASONS, TMPFS_MAGIC } from './event-constants.js';

export { ELF_KINDS, EXE_READ_SYSCALLS, HUGETLBFS_MAGIC, OVERLAYFS_MAGIC, SNAPSHOT_REASONS, TMPFS_MAGIC };

export type Hex = string;

/** A file as the kernel sees it: identity by (dev, ino); name and path for display only. */
export type FileRef = Static<typeof S.FileRefSchema>;
export type ExecBeginEvent = Static<typeof S.ExecBeginSchema>;
export type ExecEvent = Static<typeof S.ExecSchema>;
export type ForkEvent = Static<typeof S.ForkSchema>;
export type MmAttachEvent = Static<typeof S.MmAttachSchema>;
export type MmExitEvent = Static<typeof S.MmExitSchema>;
export type ExitEvent = Static<typeof S.ExitSchema>;
export type MmapEvent = Static<typeof S.MmapSchema>;
export type MunmapEvent = Static<typeof S.MunmapSchema>;
export type MremapEvent = Static<typeof S.MremapSchema>;
export type MprotectEvent = Static<typeof S.MprotectSchema>;
export type PrctlMmEvent = Static<typeof S.PrctlMmSchema>;
export type ExeReadEvent = Static<typeof S.ExeReadSchema>;
/** One line of /proc/<pid>/maps. */
export type MapsEntry = Static<typeof S.MapsEntrySchema>;
export type SnapshotReason = (typeof SNAPSHOT_REASONS)[number];
export type ElfKind = (typeof ELF_KINDS)[number];
export type ProcSnapshotEvent = Static<typeof S.ProcSnapshotSchema>;
export type GapEvent = Static<typeof S.GapSchema>;

export type TraceEvent = Static<typeof S.TraceEventSchema>;

export type TraceEventKind = TraceEvent['kind'];

/** PR_SET_MM sub-options that replace exe_file. */
export const PR_SET_MM_EXE_FILE = 13;
export const PR_SET_MM_MAP = 14;

export const PROT_EXEC = 0x4;
export const MAP_FIXED = 0x10;
export const CLONE_VM = 0x100;
export const CLONE_THREAD = 0x10000;

/** The default of a switch over a union that must handle every member: adding one fails to compile here. */
export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(x)}`);
}
