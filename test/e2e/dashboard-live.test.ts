// The real CLI, live, in tmux: bpftrace traces this host while a lab process whose exe name
// and comm are made of terminal escapes runs; the dashboard must show them escaped, follow the
// keys, and leave no terminal damage and no bpftrace behind on q, Ctrl-C and a crash.
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { skipLive } from '../support/live-gate.js';
import { scenarioById, type RunningScenario } from '../lab/scenarios.js';
import { CLI, nodePid, startPane, type Pane } from './support/tmux.js';

const panes: Pane[] = [];
const scenarios: RunningScenario[] = [];
let seq = 0;

afterEach(async () => {
  for (const p of panes.splice(0)) p.kill();
  for (const s of scenarios.splice(0)) await s.stop();
});

function open(cmd: string): Pane {
  const p = startPane(`exetrace-live-${process.pid}-${seq++}`, cmd);
  panes.push(p);
  return p;
}

/** bpftrace processes that are children of the exetrace in this pane. */
function bpftraceUnder(p: Pane): number[] {
  try {
    const out = execFileSync('ps', ['-eo', 'pid=,ppid=,comm='], { encoding: 'utf8' });
    const rows = out
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    const parent = new Map(rows.map(([pid, ppid]) => [pid!, ppid!]));
    const shPid = p.display('#{pane_pid}');
    const under = (pid: string): boolean => {
      for (let cur = parent.get(pid); cur !== undefined && cur !== '0' && cur !== '1'; cur = parent.get(cur)) if (cur === shPid) return true;
      return false;
    };
    return rows.filter(([pid, , comm]) => comm === 'bpftrace' && under(pid!)).map(([pid]) => Number(pid));
  } catch {
    return [];
  }
}

async function expectRestoredAndStopped(p: Pane, bpftracePids: number[], exit: number | 'nonzero'): Promise<string> {
  const screen = await p.waitFor(/STTY=.*/, 60_000);
  const code = Number(/EXIT=(\d+)/.exec(screen)?.[1]);
  if (exit === 'nonzero') expect(code).toBeGreaterThan(0);
  else expect(code).toBe(exit);
  expect(p.display('#{alternate_on}')).toBe('0');
  expect(p.display('#{cursor_flag}')).toBe('1');
  expect(screen).toMatch(/STTY=icanon echo/);
  // A killed bpftrace still detaches its probes in the kernel before it is gone (seconds on a
  // loaded host), and exetrace's crash path waits for it at most 5 s: allow a bounded grace.
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 10_000;
  while (bpftracePids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of bpftracePids) expect(alive(pid), `bpftrace ${pid} still running`).toBe(false);
  return screen;
}

describe.skipIf(skipLive())('exetrace live in tmux', () => {
  it('shows a hostile-named process escaped, follows keys, and stops bpftrace on q', async () => {
    const p = open(`${CLI} live --flavor tracepoint`);
    // LIVE only once the probes are attached: the workload must start after, or it is only
    // seen by a /proc snapshot (state "startup") instead of exec'd.
    await p.waitFor(/exetrace live │ LIVE/, 90_000);
    await p.waitFor(() => bpftraceUnder(p).length > 0, 30_000);
    const bpf = bpftraceUnder(p);
    expect(p.display('#{alternate_on}')).toBe('1');

    const hostile = await scenarioById('hostile-name').start();
    scenarios.push(hostile);
    p.send('f');
    await p.waitFor('filter:');
    p.send('-l', 'lab-');
    p.send('Enter');
    // Wait for the filter to be applied: the row may already show in the unfiltered list, and a
    // lagging app reads "lab-", Enter and the next Enter as one chunk (it submits at the first
    // line break and drops the rest, as a paste should), which would swallow the details key.
    await p.waitFor('filter "lab-"', 30_000);
    let screen = await p.waitFor(new RegExp(`^[ >]${hostile.pid}\\b`, 'm'), 30_000);
    // The exe name holds ESC[2J, ESC[31m, a newline and a 0xff byte; the comm an OSC title.
    expect(screen).toContain('lab-\\x1b[2J\\x1b[31mred\\x0aline');
    expect(p.display('#{pane_title}')).not.toContain('pwn');
    expect(screen).toContain('exetrace live │'); // the screen was not cleared by the name

    p.send('Enter');
    screen = await p.waitFor('timeline (');
    expect(screen).toContain(`pids ${hostile.pid}`);
    expect(screen).toContain('\\x1b]0;pwn\\x07\\x1b[2J'); // the comm, escaped
    expect(screen).toContain('executable mappings (');
    p.send('Escape');
    await p.waitFor('mms: 1 shown');
    p.send('s');
    await p.waitFor('sort pid');
    p.send('j');
    p.send('q');
    await expectRestoredAndStopped(p, bpf, 0);
  });

  it('Ctrl-C quits and stops bpftrace', async () => {
    const p = open(`${CLI} live --flavor tracepoint`);
    await p.waitFor(/exetrace live │ LIVE/, 90_000);
    await p.waitFor(() => bpftraceUnder(p).length > 0, 30_000);
    const bpf = bpftraceUnder(p);
    p.send('C-c');
    await expectRestoredAndStopped(p, bpf, 0);
  });

  it('a crash restores the terminal, stops bpftrace and exits non-zero', async () => {
    const p = open('node --import tsx test/e2e/fixtures/crash-after.ts live');
    await p.waitFor(/exetrace live │ LIVE/, 90_000);
    await p.waitFor(() => bpftraceUnder(p).length > 0, 30_000);
    const bpf = bpftraceUnder(p);
    process.kill(nodePid(p, 'crash-after'), 'SIGUSR2');
    const screen = await expectRestoredAndStopped(p, bpf, 'nonzero');
    expect(screen).toContain('exetrace: crashed: Error: injected crash for the e2e test');
  });
});
