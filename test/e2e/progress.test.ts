// The progress bar of analyze and export, in a real terminal (tmux): on stderr while the trace is
// read (bytes, events, findings, ETA), never on stdout; and nothing at all when stderr is a pipe.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { humanBytes } from '../../src/report/progress.js';
import { writeSampleTrace } from './support/sample-trace.js';
import { CLI, shq, startPane, type Pane } from './support/tmux.js';

const SAMPLE = join(REPO_ROOT, 'samples', 'lab.trace.jsonl');
/** The final bar: every byte, the trace's events, its findings (as analyze counts them). */
let FINAL_BAR: RegExp;

let dir: string;
let big: string;
let bigSize = '';
let bigEvents = 0;
const panes: Pane[] = [];
let seq = 0;

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'views-progress-'));
  const json = await runCli(['analyze', SAMPLE, '--format', 'json']);
  const r = JSON.parse(json.stdout) as { trace: { events: number }; counts: { total: number } };
  const size = esc(humanBytes(statSync(SAMPLE).size));
  FINAL_BAR = new RegExp(`100% \\| ${size} of ${size} \\| ${r.trace.events} events \\| ${r.counts.total} findings \\| ETA 0s \\| .*lab\\.trace\\.jsonl`);
  // The lab recording twelve times over, shifted in time (its file dictionary once): long enough to see the bar move.
  const [header, ...rest] = readFileSync(SAMPLE, 'utf8').trimEnd().split('\n');
  const body = rest.slice(0, -1).map((l) => JSON.parse(l) as { ts?: number; kind?: string });
  const tss = body.flatMap((e) => (typeof e.ts === 'number' ? [e.ts] : []));
  const span = tss[tss.length - 1]! - tss[0]! + 1e9;
  const lines = [header!];
  for (let k = 0; k < 12; k++)
    for (const e of body) {
      if (typeof e.ts === 'number') lines.push(JSON.stringify({ ...e, ts: e.ts + k * span }));
      else if (k === 0) lines.push(JSON.stringify(e));
    }
  big = join(dir, 'big.trace.jsonl');
  writeFileSync(big, `${lines.join('\n')}\n`);
  bigSize = esc(humanBytes(statSync(big).size));
  const bigJson = await runCli(['analyze', big, '--format', 'json']);
  bigEvents = (JSON.parse(bigJson.stdout) as { trace: { events: number } }).trace.events;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const p of panes.splice(0)) p.kill();
});

function open(cmd: string): Pane {
  const p = startPane(`views-progress-${process.pid}-${seq++}`, cmd);
  panes.push(p);
  return p;
}

const ESC = /\x1b/;

describe('progress bar on a terminal', () => {
  it('analyze: the bar on stderr, the report alone on stdout, identical to the report off a terminal', async () => {
    const out = join(dir, 'analyze.txt');
    const p = open(`${CLI} analyze samples/lab.trace.jsonl > ${shq(out)}`);
    const screen = await p.waitFor('EXIT=', 60_000);
    expect(screen).toContain('EXIT=0');
    expect(screen).toMatch(FINAL_BAR);
    const report = readFileSync(out, 'utf8');
    expect(report).not.toMatch(ESC);
    expect(report).not.toContain('ETA');
    const plain = await runCli(['analyze', 'samples/lab.trace.jsonl']);
    expect(plain.stderr).toBe('');
    // execa strips the final newline.
    expect(report).toBe(`${plain.stdout}\n`);
  });

  it('analyze: the bar moves while a longer trace is read (part done, events so far, an ETA)', async () => {
    const out = join(dir, 'big.txt');
    const p = open(`${CLI} analyze ${shq(big)} > ${shq(out)}`);
    const moving = new RegExp(`\\b([1-9]|[1-9]\\d)% \\| [\\d.]+ [KM]iB of ${bigSize} \\| [1-9]\\d* events \\| \\d+ findings \\| ETA \\d+s`);
    const partial = await p.waitFor((s) => moving.test(s), 60_000);
    expect(partial).not.toContain('EXIT=');
    const done = await p.waitFor('EXIT=', 120_000);
    expect(done).toMatch(new RegExp(`100% \\| ${bigSize} of ${bigSize} \\| ${bigEvents} events`));
    expect(readFileSync(out, 'utf8')).not.toMatch(ESC);
  });

  it('export --perfetto -: the bar on stderr, stdout is the JSON document alone', async () => {
    const out = join(dir, 'export.json');
    const p = open(`${CLI} export samples/lab.trace.jsonl --perfetto - > ${shq(out)}`);
    const screen = await p.waitFor('EXIT=', 60_000);
    expect(screen).toContain('EXIT=0');
    expect(screen).toMatch(FINAL_BAR);
    const text = readFileSync(out, 'utf8');
    expect(text).not.toMatch(ESC);
    expect((JSON.parse(text) as { traceEvents: unknown[] }).traceEvents.length).toBeGreaterThan(1000);
  });
});

describe('progress bar and report on the same terminal', () => {
  const history = (p: Pane): string => execFileSync('tmux', ['capture-pane', '-p', '-J', '-S', '-5000', '-t', p.name], { encoding: 'utf8' });

  it('analyze A B: the bar leaves the screen before each section, so the terminal shows exactly the report', async () => {
    const a = join(dir, 'a.trace.jsonl');
    const b = join(dir, 'b.trace.jsonl');
    writeSampleTrace(a, { plain: 2 });
    writeSampleTrace(b, { plain: 3 });
    const p = open(`${CLI} analyze ${shq(a)} ${shq(b)}`);
    await p.waitFor('EXIT=', 60_000);
    const screen = history(p);
    expect(screen).toContain('EXIT=0');
    expect(screen).not.toContain('ETA');
    const shown = screen
      .slice(0, screen.indexOf('EXIT='))
      .trimEnd()
      .split('\n')
      .map((l) => l.trimEnd());
    const plain = await runCli(['analyze', a, b]);
    expect(shown).toEqual(
      plain.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.trimEnd()),
    );
  });

  it('export --perfetto - to the terminal: no bar at all', async () => {
    const small = join(dir, 'small.trace.jsonl');
    writeSampleTrace(small, { plain: 2 });
    const p = open(`${CLI} export ${shq(small)} --perfetto -`);
    await p.waitFor('EXIT=', 60_000);
    const screen = history(p);
    expect(screen).toContain('EXIT=0');
    expect(screen).toContain('"otherData"');
    expect(screen).not.toContain('ETA');
  });
});

describe('progress bar off a terminal', () => {
  it('stderr has no bar when it is a pipe, even when stdout is a terminal', async () => {
    const err = join(dir, 'stderr.txt');
    const p = open(`${CLI} analyze samples/lab.trace.jsonl 2> ${shq(err)} | tail -1`);
    const screen = await p.waitFor('EXIT=', 60_000);
    expect(screen).toContain('EXIT=0');
    expect(screen).not.toContain('ETA');
    expect(readFileSync(err, 'utf8')).toBe('');
  });
});
