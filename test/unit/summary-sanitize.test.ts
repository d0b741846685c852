// record's end-of-run summary and analyze's text report show a hostile comm the same way:
// sanitised exactly once (a second pass would double every backslash of the escapes).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runAnalyze } from '../../src/cli/analyze.js';
import { initialState, reduceAll } from '../../src/model/index.js';
import { buildReport } from '../../src/report/analysis.js';
import { renderSummary, summarizeTrace } from '../../src/report/summary.js';
import { renderText } from '../../src/report/text.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { DECOY, SLEEP, ev, maps, ordinaryLaunch, ordinaryMaps } from './fixtures/model-events.fixture.js';
import { testHeader } from './fixtures/trace-header.fixture.js';

const A = '0xffff888100000a00';
const EVIL = 'evil\x1b]0;x\x07';
const ESCAPED_ONCE = 'evil\\x1b]0;x\\x07';

function events(): TraceEvent[] {
  return [
    ...ordinaryLaunch(10, 100, A),
    ev.mmap(20, 100, A, 0x10000, 0x2000, DECOY),
    ev.snapshot(21, 100, 'exe_read', SLEEP, [maps(DECOY, 0x10000, 0x12000), ...ordinaryMaps(SLEEP)]),
  ].map((e) => ({ ...e, comm: EVIL }));
}

/** The comm as each renderer printed it on its finding line. */
function commsIn(text: string): string[] {
  return [...text.matchAll(/pid 100 (.+?):? /g)].map((m) => m[1]!);
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a hostile comm in record summary and analyze', () => {
  it('renders identically from the same state', () => {
    const state = reduceAll(initialState(), events());
    expect(state.findings.map((f) => f.class)).toContain('decoy-mapping');
    const summary = renderSummary(state);
    const report = renderText(buildReport(state, { file: 'run.trace', header: null, trailer: null, parseErrors: 0, filters: { pid: null, comm: null } }));
    expect(commsIn(summary)).toEqual([ESCAPED_ONCE]);
    expect(commsIn(report)).toEqual([ESCAPED_ONCE]);
    expect(summary).not.toContain('\x1b');
    expect(report).not.toContain('\x1b');
  });

  it('renders identically from the same trace file (what record prints and what analyze prints)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exetrace-summary-'));
    dirs.push(dir);
    const path = join(dir, 'run.trace');
    const header = testHeader();
    writeFileSync(path, [header, ...events()].map((l) => JSON.stringify(l)).join('\n') + '\n');
    const chunks: string[] = [];
    const out = new Writable({
      write(c, _e, cb) {
        chunks.push(String(c));
        cb();
      },
    });
    const sink = new Writable({
      write(_c, _e, cb) {
        cb();
      },
    });
    expect(await runAnalyze(path, { format: 'text' }, out, sink)).toBe(0);
    const summary = await summarizeTrace(path);
    expect(commsIn(summary)).toEqual([ESCAPED_ONCE]);
    expect(commsIn(chunks.join(''))).toEqual(commsIn(summary));
  });
});
