// The recorded trace: JSON lines, a header first, then one TraceEvent per line, then a trailer.
// Schema 2 adds file dictionary lines: each file's identity is written once and events refer to
// it by id. Documented in docs/trace-format.md; bump SCHEMA_VERSION on any incompatible change.
// The validators never trust the file: every line is checked against its TypeBox schema (the
// events' in event-schema.ts, the header's, trailer's and dictionary's here), compiled once per
// kind by TypeBox's TypeCompiler into straight-line code: the reader's hot path. The slow path,
// explaining a line that failed, walks the same schema (explain.ts).
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { EVENT_SCHEMAS, FileRefField, FileRefSchema, HexString, Int, nullable, oneOf } from './event-schema.js';
import type { FileRef, TraceEvent, TraceEventKind } from './events.js';
import { explain } from './schema-explain.js';

export const SCHEMA_VERSION = 2;
/** Versions this reader understands: 1 (inline file refs) and 2 (file dictionary). */
export const READABLE_SCHEMA_VERSIONS: readonly number[] = [1, 2];
/** `kind` of a schema-2 dictionary line: a trace-level record, never a TraceEvent. */
export const FILE_DICT_KIND = 'file';
export const TRACE_MAGIC = 'exetrace-trace';
export const TRAILER_MAGIC = 'exetrace-trailer';

export const FLAVORS = ['tracepoint', 'kprobe', 'kfunc'] as const;
export type Flavor = (typeof FLAVORS)[number];

const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'a non-negative integer' });

const TraceHeaderSchema = Type.Object({
  magic: Type.Literal(TRACE_MAGIC),
  schemaVersion: Int,
  toolVersion: Type.String(),
  kernelRelease: Type.String(),
  bpftraceVersion: Type.String(),
  flavor: oneOf(FLAVORS),
  hostname: Type.String(),
  /** ISO-8601 wall time when recording started. */
  startedAt: Type.String(),
  /** One simultaneous reading of both clocks, to turn event `ts` (CLOCK_MONOTONIC ns) into wall time. */
  clockRef: Type.Object({ monotonicNs: Int, wallMs: Int }),
  /** The filters in force, so a reader knows what the trace cannot contain. */
  filters: Type.Object({ pid: nullable(Int), comm: nullable(Type.String()) }),
  /** How bpftrace's output rings woke it: 'batched' (native/wakeup-batching.c) or on every event; absent in older traces. */
  wakeups: Type.Optional(oneOf(['batched', 'per-event'] as const)),
});
export type TraceHeader = Static<typeof TraceHeaderSchema>;

const TRAILER_REASONS = ['duration', 'signal', 'bpftrace-exited', 'error'] as const;

/** The last line of a complete trace. A trace without it was cut short (crash, kill -9, disk full). */
const TraceTrailerSchema = Type.Object({
  magic: Type.Literal(TRAILER_MAGIC),
  endedAt: Type.String(),
  events: Count,
  lostEvents: Count,
  parseIssues: Count,
  /** Why recording ended: duration elapsed, a signal, or bpftrace exiting on its own. */
  reason: oneOf(TRAILER_REASONS),
  error: nullable(Type.String()),
  /** Snapshots the recorder skipped because of its rate limit (optional: added in 0.1). */
  skippedSnapshots: Type.Optional(Int),
  /** Events that arrived without some of their string parts (optional, schema 2). */
  incompleteEvents: Type.Optional(Count),
  /** bpftrace's own lost_events total: output records, a cross-check of lostEvents (optional, schema 2). */
  bpftraceLostRecords: Type.Optional(Count),
  /** The stop's drain: did every CPU confirm its events were out before bpftrace was signalled (null: no drain, e.g. bpftrace died). */
  drain: Type.Optional(nullable(Type.Object({ complete: Type.Boolean(), answeredCpus: Int, cpus: Int }))),
});
export type TraceTrailer = Static<typeof TraceTrailerSchema>;

/** A schema-2 dictionary line: one file identity, referred to by `id` in later events. */
const FileDictLineSchema = Type.Object({
  kind: Type.Literal(FILE_DICT_KIND),
  id: Count,
  ...Type.Omit(FileRefSchema, ['file']).properties,
});
export type FileDictLine = Static<typeof FileDictLineSchema>;

/** In an event line of schema 2: a file by dictionary id, plus the struct file pointer of this event. */
const CompactFileRefSchema = Type.Object({ ref: Count, file: nullable(HexString) }, { description: 'a dictionary ref {ref, file}' });
export type CompactFileRef = Static<typeof CompactFileRefSchema>;

/** A validation result: the typed value, or the first reason it is not one. */
export type Checked<T> = { ok: true; value: T } | { ok: false; cause: string };

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

const HEADER_CHECK = TypeCompiler.Compile(TraceHeaderSchema);
const TRAILER_CHECK = TypeCompiler.Compile(TraceTrailerSchema);
const DICT_CHECK = TypeCompiler.Compile(FileDictLineSchema);

export function checkHeader(v: unknown): Checked<TraceHeader> {
  if (!isRec(v)) return { ok: false, cause: 'not an exetrace trace (the first line is not a JSON object)' };
  if (v.magic !== TRACE_MAGIC) return { ok: false, cause: `not an exetrace trace (magic ${JSON.stringify(v.magic)})` };
  const version = v.schemaVersion;
  if (!READABLE_SCHEMA_VERSIONS.includes(version as number)) {
    const reads = READABLE_SCHEMA_VERSIONS.join(' and ');
    return {
      ok: false,
      cause:
        Number.isSafeInteger(version) && (version as number) > SCHEMA_VERSION
          ? `trace schema version ${version as number} is newer than this exetrace reads (${reads}): read it with a newer exetrace`
          : `unsupported schema version ${JSON.stringify(version)} (this exetrace reads ${reads})`,
    };
  }
  if (!HEADER_CHECK.Check(v)) return { ok: false, cause: explain('header', TraceHeaderSchema, v) };
  return { ok: true, value: v };
}

export function checkTrailer(v: Rec): Checked<TraceTrailer> {
  return TRAILER_CHECK.Check(v) ? { ok: true, value: v } : { ok: false, cause: explain('trailer', TraceTrailerSchema, v) };
}

/** How a file-ref field may look on the wire: null, an inline FileRef (schema 1), or a dictionary ref (schema 2). */
const WireFileRefField = Type.Union([Type.Null(), CompactFileRefSchema, FileRefSchema]);

interface KindValidator {
  /** The wire form of the kind's schema (file-ref fields widened to WireFileRefField), compiled. */
  check: TypeCheck<TSchema>;
  wire: TObject;
  /** The kind's file-ref fields, by the FileRefField schema object they use. */
  fileFields: readonly string[];
}

const VALIDATORS: ReadonlyMap<string, KindValidator> = new Map(
  EVENT_SCHEMAS.map((schema): [string, KindValidator] => {
    const props: Record<string, TSchema> = schema.properties;
    const fileFields = Object.keys(props).filter((k) => props[k] === FileRefField);
    const wire = Type.Object({ ...props, ...Object.fromEntries(fileFields.map((f) => [f, WireFileRefField])) });
    return [schema.properties.kind.const, { check: TypeCompiler.Compile(wire), wire, fileFields }];
  }),
);

/** The fields of each kind that hold a file ref: the writer interns exactly these. */
export const FILE_FIELDS: Readonly<Partial<Record<TraceEventKind, readonly string[]>>> = Object.fromEntries(
  [...VALIDATORS].filter(([, v]) => v.fileFields.length > 0).map(([kind, v]) => [kind, v.fileFields]),
);

/** A dictionary entry as the reader holds it; `last` lets events with the same pointer share one FileRef. */
interface FileEntry {
  dev: number;
  ino: number;
  name: string;
  path: string | null;
  pathTruncated: boolean;
  last: FileRef | null;
}

/** The file dictionary of one trace, as read so far. */
export class FileDictionary {
  private readonly byId = new Map<number, FileEntry>();

  get size(): number {
    return this.byId.size;
  }

  /** Validate and record a dictionary line; returns the cause when it is not a valid one. */
  define(v: Rec): string | null {
    if (!DICT_CHECK.Check(v)) return explain('file', FileDictLineSchema, v);
    if (this.byId.has(v.id)) return `file id ${v.id} is defined twice`;
    this.byId.set(v.id, { dev: v.dev, ino: v.ino, name: v.name, path: v.path, pathTruncated: v.pathTruncated, last: null });
    return null;
  }

  /** The FileRef for a compact ref, or null when the id is unknown. Consumers must not mutate it. */
  resolve(id: number, file: string | null): FileRef | null {
    const e = this.byId.get(id);
    if (e === undefined) return null;
    const last = e.last;
    if (last !== null && last.file === file) return last;
    const ref: FileRef = { file, dev: e.dev, ino: e.ino, name: e.name, path: e.path, pathTruncated: e.pathTruncated };
    e.last = ref;
    return ref;
  }
}

/**
 * Validate one event object. With a dictionary (schema 2), compact file refs are replaced in
 * place by the FileRef they name; `v` must then be the caller's own object.
 */
export function checkEvent(v: Rec, files: FileDictionary | null = null): Checked<TraceEvent> {
  const kind = v.kind;
  const validator = typeof kind === 'string' ? VALIDATORS.get(kind) : undefined;
  if (validator === undefined) {
    return {
      ok: false,
      cause:
        typeof kind === 'string'
          ? `unknown event kind ${JSON.stringify(kind)} (not one of the ${VALIDATORS.size} kinds this exetrace reads; a newer exetrace may have written it)`
          : `line has no event kind (kind is ${JSON.stringify(kind) ?? 'missing'})`,
    };
  }
  if (!validator.check.Check(v)) return { ok: false, cause: explain(kind as string, validator.wire, v) };
  for (const name of validator.fileFields) {
    const x = v[name] as Rec | null;
    if (x === null || x.ref === undefined) continue; // null or an inline FileRef
    if (files === null) return { ok: false, cause: `${kind as string}.${name} is a dictionary ref, but schema 1 traces have no dictionary` };
    const ref = files.resolve(x.ref as number, x.file as string | null);
    if (ref === null) return { ok: false, cause: `${kind as string}.${name} refers to file id ${x.ref as number}, which no earlier dictionary line defines` };
    v[name] = ref;
  }
  return { ok: true, value: v as unknown as TraceEvent };
}

export type BodyLine = { type: 'event'; event: TraceEvent } | { type: 'trailer'; trailer: TraceTrailer } | { type: 'file' } | { type: 'error'; cause: string };

/**
 * Classify one parsed JSON line that follows the header. `files` is the trace's dictionary
 * (schema 2; null for schema 1, where a dictionary line is an unknown kind).
 */
export function checkBodyLine(v: unknown, files: FileDictionary | null = null): BodyLine {
  if (!isRec(v)) return { type: 'error', cause: 'line is not a JSON object' };
  const magic = v.magic;
  if (magic !== undefined) {
    if (magic === TRAILER_MAGIC) {
      const t = checkTrailer(v);
      return t.ok ? { type: 'trailer', trailer: t.value } : { type: 'error', cause: t.cause };
    }
    if (magic === TRACE_MAGIC) return { type: 'error', cause: 'a second header inside the trace' };
  }
  if (v.kind === FILE_DICT_KIND && files !== null) {
    const why = files.define(v);
    return why === null ? { type: 'file' } : { type: 'error', cause: why };
  }
  const e = checkEvent(v, files);
  return e.ok ? { type: 'event', event: e.value } : { type: 'error', cause: e.cause };
}
