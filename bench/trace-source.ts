// Synthetic traces for the bench, from bench/synthetic-trace.ts (the generator unit tests and
// the model use too): `lifecycles` short-lived programs plus `liveMms` that stay alive.
import type { TraceEvent } from '../src/trace/events.js';
import { syntheticEvents as generatedEvents, writeSyntheticTrace as writeGenerated } from './synthetic-trace.js';

export interface SyntheticOptions {
  lifecycles: number;
  liveMms?: number;
}

/** Which generator is in use, for the report. */
export async function syntheticSourceName(): Promise<string> {
  return 'bench/synthetic-trace.ts';
}

/** The events only (no header or trailer): for in-process reducer runs. */
export async function* syntheticEvents(opts: SyntheticOptions): AsyncGenerator<TraceEvent> {
  yield* generatedEvents(opts.lifecycles, { live: opts.liveMms ?? 0 });
}

/** Write a complete trace file; resolves to the number of event lines. */
export async function writeSyntheticTrace(path: string, opts: SyntheticOptions): Promise<number> {
  return writeGenerated(path, opts.lifecycles, { live: opts.liveMms ?? 0 }).events;
}
