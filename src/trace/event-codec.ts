// Trace records across a thread boundary. The trace-read worker parses and validates lines;
// posting the parsed objects would cost the main thread as much as parsing them, so each event
// goes over as numbers in a Float64Array, with its strings and files interned in tables that
// both sides keep in step. The main thread rebuilds the event from its kind's decoder, generated
// from the event schema: a new field or kind needs nothing here.
//
// Slots per record: the kind's index (or EXTRA), the line number, then one slot per field (two
// for a file ref: the file's table id and its struct file pointer's string id). A number is
// itself, a boolean 0 or 1, a string its table id; null is NaN and an absent optional field
// Infinity (a valid trace has neither: every number in it is a safe integer). Records the codec
// has no layout for (headers, trailers, errors, kinds with arrays) go over as they are.
import { KindGuard, type TSchema } from '@sinclair/typebox';
import { EVENT_SCHEMAS, FileRefField } from './event-schema.js';
import type { FileRef, TraceEvent } from './events.js';
import type { TraceRecord } from './trace-record.js';

type FieldType = 'number' | 'boolean' | 'string' | 'file';
interface Field {
  name: string;
  type: FieldType;
  optional: boolean;
}
interface KindLayout {
  kind: TraceEvent['kind'];
  /** Null when some field has no slot form (an array): the kind goes over as an extra. */
  fields: readonly Field[] | null;
  slots: number;
}

const EXTRA = -1;
const HEAD_SLOTS = 2;
/** Table sizes at which both sides start their tables afresh (a trace of endless distinct strings stays bounded). */
const MAX_STRINGS = 1 << 16;
const MAX_FILES = 1 << 16;

function fieldType(schema: TSchema): FieldType | null {
  if (schema === FileRefField) return 'file';
  let single: unknown = schema;
  if (KindGuard.IsUnion(schema)) {
    const members = schema.anyOf.filter((m) => !KindGuard.IsNull(m));
    if (members.every((m) => KindGuard.IsLiteral(m) && typeof m.const === 'string')) return 'string';
    if (members.length !== 1) return null;
    single = members[0];
  }
  if (KindGuard.IsInteger(single)) return 'number';
  if (KindGuard.IsBoolean(single)) return 'boolean';
  if (KindGuard.IsString(single)) return 'string';
  return null;
}

const LAYOUTS: readonly KindLayout[] = EVENT_SCHEMAS.map((schema) => {
  const fields: Field[] = [];
  let encodable = true;
  for (const [name, prop] of Object.entries(schema.properties as Record<string, TSchema>)) {
    if (name === 'kind') continue;
    const type = fieldType(prop);
    // Names go into generated code: the schema's own identifiers only.
    if (type === null || !/^[A-Za-z_]\w*$/.test(name)) {
      encodable = false;
      break;
    }
    fields.push({ name, type, optional: KindGuard.IsOptional(prop) });
  }
  const slots = fields.reduce((n, f) => n + (f.type === 'file' ? 2 : 1), 0);
  return { kind: schema.properties.kind.const, fields: encodable ? fields : null, slots };
});
const KIND_INDEX: ReadonlyMap<string, number> = new Map(LAYOUTS.map((l, i) => [l.kind, i]));
const MAX_RECORD_SLOTS = HEAD_SLOTS + Math.max(...LAYOUTS.map((l) => l.slots));

type FileTuple = [dev: number, ino: number, name: string, path: string | null, pathTruncated: boolean];

/** One batch as posted: the slots (transferred), and what the tables gained with it. */
export interface EncodedBatch {
  slots: ArrayBuffer;
  used: number;
  records: number;
  /** Both sides empty their tables before this batch. */
  reset: boolean;
  strings: string[];
  files: FileTuple[];
  extras: TraceRecord[];
}

type Encode = (slots: Float64Array, at: number, event: TraceEvent, enc: EventEncoder) => number;

/** Writes one kind's fields; generated so each is a straight run of stores. */
function encoderFor(layout: KindLayout): Encode | null {
  if (layout.fields === null) return null;
  let at = 0;
  const body = layout.fields.map((f) => {
    const v = `e.${f.name}`;
    const slot = `s[p + ${at}]`;
    const next = `s[p + ${at + 1}]`;
    at += f.type === 'file' ? 2 : 1;
    const absent = f.optional ? `${v} === undefined ? (${slot} = Infinity${f.type === 'file' ? `, ${next} = NaN` : ''}) : ` : '';
    switch (f.type) {
      case 'number':
        return `${absent}${v} === null ? ${slot} = NaN : ${slot} = ${v};`;
      case 'boolean':
        return `${absent}${v} === null ? ${slot} = NaN : ${slot} = ${v} ? 1 : 0;`;
      case 'string':
        return `${absent}${v} === null ? ${slot} = NaN : ${slot} = x.string(${v});`;
      case 'file':
        return `${absent}${v} === null ? (${slot} = NaN, ${next} = NaN) : (${slot} = x.file(${v}), ${next} = ${v}.file === null ? NaN : x.string(${v}.file));`;
    }
  });
  // Code from the schema's own field names (checked above), never from trace content.
  return new Function('s', 'p', 'e', 'x', `${body.join('\n')}\nreturn p + ${at};`) as Encode;
}

type Decode = (slots: Float64Array, at: number, strings: readonly string[], file: (id: number, pointer: number) => FileRef) => TraceEvent;

/** Builds one kind's event object: one literal, so every event of a kind shares V8's shape. */
function decoderFor(layout: KindLayout): Decode | null {
  if (layout.fields === null) return null;
  let at = 0;
  const required: string[] = [];
  const optional: string[] = [];
  for (const f of layout.fields) {
    const slot = `s[p + ${at}]`;
    const value =
      f.type === 'number'
        ? `(v = ${slot}, v !== v ? null : v)`
        : f.type === 'boolean'
          ? `(v = ${slot}, v !== v ? null : v === 1)`
          : f.type === 'string'
            ? `(v = ${slot}, v !== v ? null : S[v])`
            : `(v = ${slot}, v !== v ? null : F(v, s[p + ${at + 1}]))`;
    if (f.optional) optional.push(`if (${slot} !== Infinity) o.${f.name} = ${value};`);
    else required.push(`${f.name}: ${value}`);
    at += f.type === 'file' ? 2 : 1;
  }
  const body = `let v;\nconst o = { kind: ${JSON.stringify(layout.kind)}, ${required.join(', ')} };\n${optional.join('\n')}\nreturn o;`;
  // Code from the schema's own field names (checked above), never from trace content.
  return new Function('s', 'p', 'S', 'F', body) as Decode;
}

const ENCODERS = LAYOUTS.map(encoderFor);
const DECODERS = LAYOUTS.map(decoderFor);

/** The worker's side: records in, batches out. */
export class EventEncoder {
  private readonly strings = new Map<string, number>();
  private readonly filesByKey = new Map<string, number>();
  /** The reader hands out one FileRef per (file, pointer) run: most lookups stop here. */
  private filesByRef = new WeakMap<FileRef, number>();
  private slots: Float64Array;
  private used = 0;
  private count = 0;
  private reset = false;
  private newStrings: string[] = [];
  private newFiles: FileTuple[] = [];
  private extras: TraceRecord[] = [];

  constructor(private readonly batchRecords: number) {
    this.slots = new Float64Array(batchRecords * MAX_RECORD_SLOTS);
  }

  get records(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.batchRecords;
  }

  add(rec: TraceRecord): void {
    const s = this.slots;
    const p = this.used;
    const index = rec.type === 'event' ? KIND_INDEX.get(rec.event.kind) : undefined;
    const encode = index === undefined ? null : ENCODERS[index]!;
    s[p + 1] = rec.line;
    if (encode === null || rec.type !== 'event') {
      s[p] = EXTRA;
      this.extras.push(rec);
      this.used = p + HEAD_SLOTS;
    } else {
      s[p] = index!;
      this.used = encode(s, p + HEAD_SLOTS, rec.event, this);
    }
    this.count++;
  }

  /** The batch so far; the encoder starts the next one. */
  take(): EncodedBatch {
    const batch: EncodedBatch = {
      slots: this.slots.buffer as ArrayBuffer,
      used: this.used,
      records: this.count,
      reset: this.reset,
      strings: this.newStrings,
      files: this.newFiles,
      extras: this.extras,
    };
    this.slots = new Float64Array(this.batchRecords * MAX_RECORD_SLOTS);
    this.used = 0;
    this.count = 0;
    this.newStrings = [];
    this.newFiles = [];
    this.extras = [];
    this.reset = false;
    // Past the bound, the next batch starts both tables afresh (the receiver clears before it reads).
    if (this.strings.size >= MAX_STRINGS || this.filesByKey.size >= MAX_FILES) {
      this.strings.clear();
      this.filesByKey.clear();
      this.filesByRef = new WeakMap();
      this.reset = true;
    }
    return batch;
  }

  /** Called by the generated encoders. */
  string(s: string): number {
    let id = this.strings.get(s);
    if (id === undefined) {
      id = this.strings.size;
      this.strings.set(s, id);
      this.newStrings.push(s);
    }
    return id;
  }

  /** Called by the generated encoders: the file's identity and names, without its pointer. */
  file(f: FileRef): number {
    let id = this.filesByRef.get(f);
    if (id !== undefined) return id;
    const key = `${f.dev}:${f.ino}:${f.pathTruncated ? 1 : 0}:${f.name.length}:${f.name}${f.path === null ? '' : `/${f.path}`}`;
    id = this.filesByKey.get(key);
    if (id === undefined) {
      id = this.filesByKey.size;
      this.filesByKey.set(key, id);
      this.newFiles.push([f.dev, f.ino, f.name, f.path, f.pathTruncated]);
    }
    this.filesByRef.set(f, id);
    return id;
  }
}

/** The main thread's side: batches in, the records the worker read out. */
export class EventDecoder {
  private strings: string[] = [];
  private files: FileTuple[] = [];
  /** Events with the same file and pointer share one FileRef, as the in-thread reader's do. */
  private last: (FileRef | undefined)[] = [];
  private readonly fileRef = (id: number, pointer: number): FileRef => {
    const file = pointer !== pointer ? null : this.strings[pointer]!;
    const last = this.last[id];
    if (last !== undefined && last.file === file) return last;
    const [dev, ino, name, path, pathTruncated] = this.files[id]!;
    const ref: FileRef = { file, dev, ino, name, path, pathTruncated };
    this.last[id] = ref;
    return ref;
  };

  /** The batch's records, `size` at a time; its table entries are taken in first. */
  *records(batch: EncodedBatch, size: number): Generator<TraceRecord[]> {
    if (batch.reset) {
      this.strings = [];
      this.files = [];
      this.last = [];
    }
    for (const s of batch.strings) this.strings.push(s);
    for (const f of batch.files) this.files.push(f);
    const s = new Float64Array(batch.slots, 0, batch.used);
    const strings = this.strings;
    let p = 0;
    let extra = 0;
    let out: TraceRecord[] = [];
    for (let i = 0; i < batch.records; i++) {
      const index = s[p]!;
      const line = s[p + 1]!;
      if (index === EXTRA) {
        out.push(batch.extras[extra++]!);
        p += HEAD_SLOTS;
      } else {
        out.push({ type: 'event', event: DECODERS[index]!(s, p + HEAD_SLOTS, strings, this.fileRef), line });
        p += HEAD_SLOTS + LAYOUTS[index]!.slots;
      }
      if (out.length >= size) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  }
}
