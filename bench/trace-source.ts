// Where synthetic traces come from: bench/synthetic-trace.ts (`syntheticTrace(mmLifecycles,
// opts)`, branch `model`) when it exists, else this folder's own generator (trace-gen.ts).
// Loaded by a computed name so the bench builds with or without it; whatever the other module
// yields (lines or events, with or without header/trailer) is normalised to a valid trace.
import { createWriteStream } from 'node:fs';
import type { TraceEvent } from '../src/trace/events.js';
import { headerLine, trailerLine, traceEvents } from './trace-gen.js';

export interface SyntheticOptions {
  lifecycles: number;
  liveMms?: number;
}

type Item = string | Record<string, unknown>;
type External = (mmLifecycles: number, opts: Record<string, unknown>) => unknown;

async function external(): Promise<External | null> {
  const spec = './synthetic-trace.js';
  try {
    const mod = (await import(spec)) as { syntheticTrace?: External };
    return typeof mod.syntheticTrace === 'function' ? mod.syntheticTrace : null;
  } catch {
    return null;
  }
}

async function* items(opts: SyntheticOptions): AsyncGenerator<Item> {
  const ext = await external();
  if (ext === null) {
    yield* traceEvents(opts) as Generator<Item>;
    return;
  }
  const r = (await ext(opts.lifecycles, { liveMms: opts.liveMms ?? 0, live: opts.liveMms ?? 0 })) as unknown;
  if (typeof r === 'string') {
    for (const l of r.split('\n')) if (l.trim() !== '') yield l;
  } else if (r !== null && typeof r === 'object' && (Symbol.asyncIterator in r || Symbol.iterator in r)) {
    for await (const x of r as AsyncIterable<Item>) yield x;
  } else {
    throw new Error('bench/synthetic-trace.ts: syntheticTrace() returned neither text nor an iterable');
  }
}

/** Which generator is in use, for the report. */
export async function syntheticSourceName(): Promise<string> {
  return (await external()) ? 'bench/synthetic-trace.ts' : 'bench/trace-gen.ts';
}

const isMagic = (x: Item, magic: string): boolean => (typeof x === 'string' ? x.includes(`"magic":"${magic}"`) : x.magic === magic);

/** The events only (header and trailer dropped), as objects: for in-process reducer runs. */
export async function* syntheticEvents(opts: SyntheticOptions): AsyncGenerator<TraceEvent> {
  for await (const x of items(opts)) {
    if (isMagic(x, 'exetrace-trace') || isMagic(x, 'exetrace-trailer')) continue;
    yield (typeof x === 'string' ? JSON.parse(x) : x) as TraceEvent;
  }
}

/** Write a complete trace file; resolves to the number of event lines. */
export async function writeSyntheticTrace(path: string, opts: SyntheticOptions): Promise<number> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let pending: string[] = [];
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const ok = out.write(`${pending.join('\n')}\n`);
    pending = [];
    if (!ok) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  let events = 0;
  let sawHeader = false;
  let sawTrailer = false;
  let first = true;
  for await (const x of items(opts)) {
    const line = typeof x === 'string' ? x : JSON.stringify(x);
    if (first && !isMagic(x, 'exetrace-trace')) pending.push(headerLine());
    first = false;
    if (isMagic(x, 'exetrace-trace')) sawHeader = true;
    else if (isMagic(x, 'exetrace-trailer')) sawTrailer = true;
    else events++;
    pending.push(line);
    if (pending.length >= 4096) await flush();
  }
  if (!sawHeader && first) pending.push(headerLine());
  if (!sawTrailer) pending.push(trailerLine(events));
  await flush();
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return events;
}
