// The real CLI in a real terminal (tmux): `exetrace replay` drawn full-screen, driven by keys,
// and the terminal given back intact on q, Ctrl-C, SIGINT and a crash.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writeSampleTrace } from './support/sample-trace.js';
import { CLI, nodePid, shq, startPane, type Pane } from './support/tmux.js';

let dir: string;
let trace: string;
let slowTrace: string;
const panes: Pane[] = [];
let seq = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'exetrace-e2e-'));
  trace = join(dir, 'sample.trace.jsonl');
  writeSampleTrace(trace, { plain: 5 });
  // 400 processes, 100 ms apart at 1×: still playing while the test pokes at it.
  slowTrace = join(dir, 'slow.trace.jsonl');
  writeSampleTrace(slowTrace, { plain: 400, stepNs: 100_000_000 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const p of panes.splice(0)) p.kill();
});

function open(cmd: string): Pane {
  const p = startPane(`exetrace-e2e-${process.pid}-${seq++}`, cmd);
  panes.push(p);
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const selectedRow = (screen: string): string => screen.split('\n').find((l) => l.startsWith('>')) ?? '';

/** After the program is gone: its exit code, and a terminal in its normal state. */
async function expectRestored(p: Pane, exitCode: number | 'nonzero'): Promise<string> {
  const screen = await p.waitFor(/STTY=.*/);
  const code = Number(/EXIT=(\d+)/.exec(screen)?.[1]);
  if (exitCode === 'nonzero') expect(code).toBeGreaterThan(0);
  else expect(code).toBe(exitCode);
  expect(p.display('#{alternate_on}')).toBe('0'); // back on the normal screen
  expect(p.display('#{cursor_flag}')).toBe('1'); // cursor visible
  expect(screen).toMatch(/STTY=icanon echo/); // not left in raw mode
  expect(screen).not.toContain('exetrace replay │'); // the dashboard stayed in the alternate screen
  return screen;
}

describe('exetrace replay in tmux', () => {
  it('draws the dashboard, follows j/Enter/Esc/s/f/p, and restores the terminal on q', async () => {
    const p = open(`${CLI} replay ${shq(trace)} --speed max`);
    let screen = await p.waitFor('end of trace');
    expect(p.display('#{alternate_on}')).toBe('1');
    expect(screen).toMatch(/exetrace replay │ end of trace .* │ 8 mms │ 2 findings/);
    expect(screen).toContain('flavor tracepoint │ kernel 6.18.0-sample');
    expect(screen).toMatch(/2000\s+ld-linux-x86-64\s+\/usr\/lib\/x86_64-linux-gnu\/ld-linux-x86-64\.so\.2.*!loader-exec/);
    expect(screen).toMatch(/!exe-deleted pid 4000 vanishing/);
    expect(screen).toMatch(/q\/Esc\s+quit/);

    // Hostile names: shown escaped, and they did not retitle or clear the terminal.
    expect(screen).toContain('/tmp/\\x1b[31mred\\x1b[0m\\x0d\\x7fname\\u{202e}');
    expect(p.display('#{pane_title}')).not.toContain('pwn');

    const first = selectedRow(screen);
    p.send('j');
    screen = await p.waitFor((s) => selectedRow(s) !== first);
    const second = selectedRow(screen);
    expect(second).not.toBe(first);

    p.send('Enter');
    screen = await p.waitFor('timeline (');
    const pid = /^>(\d+)/.exec(second)![1];
    expect(screen).toContain(`pids ${pid}`);
    expect(screen).toContain('executable mappings (');
    expect(screen).toMatch(/Esc\s+back/);

    p.send('Escape');
    await p.waitFor('mms: 8 shown');
    p.send('s');
    screen = await p.waitFor('sort pid');
    expect(screen.split('\n').filter((l) => /^[ >]\d/.test(l))[0]).toMatch(/^[ >]1000\s+worker0/);

    p.send('f');
    await p.waitFor('filter:');
    p.send('-l', 'vanish');
    await sleep(200);
    p.send('Enter');
    screen = await p.waitFor('filter "vanish"');
    expect(screen).toContain('mms: 1 shown');
    expect(screen).not.toContain('worker0');

    p.send('p');
    await p.waitFor('PAUSED');
    p.send('p');
    await p.waitFor('end of trace');

    p.send('q');
    await expectRestored(p, 0);
  });

  it('pause stops a paced replay; Ctrl-C quits at once and restores the terminal', async () => {
    const p = open(`${CLI} replay ${shq(slowTrace)} --speed 1`);
    await p.waitFor(/PLAYING .* speed 1x/);
    p.send('p');
    let screen = await p.waitFor('PAUSED');
    const count = (s: string) => Number(/(\d+) events/.exec(s)?.[1]);
    const atPause = count(screen);
    await sleep(1500);
    screen = p.capture();
    expect(count(screen)).toBe(atPause); // nothing fed while paused
    p.send('p');
    await sleep(1500);
    expect(count(p.capture())).toBeGreaterThan(atPause);
    p.send('C-c');
    await expectRestored(p, 0);
  });

  it('SIGINT (a signal, not a key) ends it with 130 and a restored terminal', async () => {
    const p = open(`${CLI} replay ${shq(slowTrace)} --speed 1`);
    await p.waitFor('PLAYING');
    process.kill(nodePid(p, '/main.'), 'SIGINT');
    await expectRestored(p, 130);
  });

  it('an uncaught exception restores the terminal, reports the crash and exits non-zero', async () => {
    const p = open(`node --import tsx test/e2e/fixtures/crash-after.ts replay ${shq(slowTrace)}`);
    await p.waitFor('PLAYING');
    process.kill(nodePid(p, 'crash-after'), 'SIGUSR2');
    const screen = await expectRestored(p, 'nonzero');
    expect(screen).toContain('exetrace: crashed: Error: injected crash for the e2e test');
  });

  it('a file that is not a trace fails before the screen changes, naming file and line', async () => {
    const p = open(`${CLI} replay /etc/hostname`);
    const screen = await expectRestored(p, 1);
    expect(screen).toMatch(/exetrace: \/etc\/hostname:1: .*(JSON|header)/);
  });
});

describe('exetrace replay off a terminal', () => {
  it('prints one sanitized line per event and per finding', async () => {
    const r = await runCli(['replay', trace, '--speed', 'max']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^# exetrace .* flavor tracepoint kernel 6\.18\.0-sample/);
    expect(lines.filter((l) => / exec {10}/.test(l))).toHaveLength(8);
    expect(lines.filter((l) => /FINDING/.test(l)).map((l) => /FINDING\s+(\S+)/.exec(l)![1])).toEqual(['loader-exec', 'exe-deleted']);
    expect(r.stdout).toContain('\\x1b[2J\\x1b]0;pwn\\x07ev\\x0ail');
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
    // 19: the sample's ld.so exec is followed by the snapshot that proves it a loader.
    expect(lines.at(-1)).toMatch(/^# end: signal, 19 events, 3 lost, 2 findings/);

    const findingsOnly = await runCli(['replay', trace, '--speed', 'max', '--findings-only']);
    expect(findingsOnly.stdout.split('\n').filter((l) => /^\d/.test(l))).toHaveLength(2);
  });
});
