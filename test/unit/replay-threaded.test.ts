// replay --speed max of a large trace off a terminal formats its lines on a thread of its own
// (dashboards/threaded-line-printer.ts); it must print exactly what the in-thread line printer
// does: every event line, each finding right after the event that raised it, bad lines on
// stderr in their place, the end line. Checked against LinePrinter on the same file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticEvents } from '../../bench/synthetic-trace.js';
import { exetraceModel } from '../../dashboards/exetrace-model.js';
import { LinePrinter } from '../../dashboards/line-printer.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { TRAILER_MAGIC } from '../../src/trace/trace-format.js';
import { replayTrace } from '../../src/trace/trace-reader.js';
import { TraceEncoder } from '../../src/trace/trace-writer.js';
import { suitsWorker } from '../../src/trace/worker-reading.js';
import { runCli } from '../support/cli.js';
import { sink } from '../support/sink.js';
import { EVERY_KIND_EVENTS } from './fixtures/every-kind.fixture.js';
import { testHeader } from './fixtures/trace-header.fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'replay-threaded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Synthetic lifecycles with the every-kind events (findings, hostile names) and bad lines between. */
function bigTrace(withTrailer: boolean): string {
  const enc = new TraceEncoder(2);
  const parts: string[] = [enc.header(testHeader(2))];
  let events = 0;
  const add = (list: Iterable<TraceEvent>, shift: number): void => {
    for (const e of list) {
      parts.push(enc.event({ ...e, ts: e.ts + shift }));
      events++;
    }
  };
  for (let round = 0; round < 6; round++) {
    add(syntheticEvents(1200, { seed: round + 1 }), round * 1e12);
    // The every-kind events again, each time on fresh pids and mm addresses, so each raises its findings.
    add(
      EVERY_KIND_EVENTS.map((e) => (e.kind === 'gap' ? e : { ...e, pid: e.pid + 10_000 * (round + 1), tid: e.tid + 10_000 * (round + 1) })),
      round * 1e12 + 5e11,
    );
    parts.push(`{"kind":"exec","ts":${round}}\n`, 'not json at all\n');
  }
  if (withTrailer) parts.push(enc.line({ magic: TRAILER_MAGIC, endedAt: 'e', events, lostEvents: 0, parseIssues: 12, reason: 'signal', error: null }));
  const path = join(dir, `big-${withTrailer ? 'whole' : 'cut'}.trace`);
  writeFileSync(path, parts.join(''));
  return path;
}

async function inThread(path: string): Promise<{ stdout: string; stderr: string }> {
  const out = sink();
  const err = sink();
  const printer = new LinePrinter(exetraceModel, { out: out.stream, err: err.stream, events: true });
  await replayTrace(path, printer, { worker: false });
  printer.flush();
  return { stdout: out.text(), stderr: err.text() };
}

describe('replay --speed max through the threaded line printer', () => {
  it.each([true, false])('prints what the in-thread line printer prints (trailer: %s)', async (withTrailer) => {
    const path = bigTrace(withTrailer);
    // Big enough for the worker reader, hence for the threaded printer.
    expect(suitsWorker(path)).toBe(true);
    const expected = await inThread(path);
    expect(expected.stdout).toMatch(/ FINDING /);
    expect(expected.stderr.split('\n').filter(Boolean)).toHaveLength(withTrailer ? 12 : 13); // 13th: the cut
    const got = await runCli(['replay', path, '--speed', 'max', '--no-default-exceptions'], { stripFinalNewline: false });
    expect(got.code).toBe(0);
    expect(got.stderr).toBe(expected.stderr);
    // Compared whole: the first difference is what a failure shows.
    const a = got.stdout.split('\n');
    const b = expected.stdout.split('\n');
    const at = b.findIndex((line, i) => line !== a[i]);
    expect({ at, line: at < 0 ? null : a[at] }).toEqual({ at, line: at < 0 ? null : b[at] });
    expect(a.length).toBe(b.length);
  });
});
