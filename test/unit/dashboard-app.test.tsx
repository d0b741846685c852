// The dashboard container driven by the real reducer and real key presses (ink-testing-library).
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { DashboardApp } from '../../dashboards/components/DashboardApp.js';
import { DashboardStore } from '../../dashboards/dashboard-store.js';
import { exetraceModel } from '../../dashboards/exetrace-model.js';
import { footerItems } from '../../dashboards/keybindings.js';
import { sampleEvents } from '../e2e/support/sample-trace.js';

const tick = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));
const header = {
  magic: 'exetrace-trace' as const,
  schemaVersion: 1,
  toolVersion: 't',
  kernelRelease: '6.18.0-unit',
  bpftraceVersion: 'v0.17.0',
  flavor: 'tracepoint' as const,
  hostname: 'h',
  startedAt: '2026-11-01T00:00:00.000Z',
  clockRef: { monotonicNs: 5_000_000_000_000, wallMs: Date.UTC(2026, 10, 1) },
  filters: { pid: null, comm: null },
};

let cleanup: (() => void) | null = null;
afterEach(() => {
  cleanup?.();
  cleanup = null;
});

function mount() {
  const store = new DashboardStore(exetraceModel, { source: 'replay', speed: 'max', fps: 1000 });
  let quits = 0;
  const app = render(<DashboardApp store={store} select={exetraceModel.view} onQuit={() => quits++} />);
  cleanup = () => {
    app.unmount();
    store.dispose();
  };
  store.onHeader(header);
  for (const e of sampleEvents({ plain: 3 })) store.onEvent(e);
  store.flush();
  return { store, app, quits: () => quits };
}

const frame = (app: ReturnType<typeof render>): string => app.lastFrame() ?? '';
const selectedLine = (f: string): string => f.split('\n').find((l) => /^>/.test(l)) ?? '';

describe('DashboardApp', () => {
  it('renders the model: header counts, one row per mm, findings feed, footer', async () => {
    const { app } = mount();
    await tick();
    const f = frame(app);
    expect(f).toContain('kernel 6.18.0-unit');
    expect(f).toContain('6 mms');
    expect(f).toContain('lost 3');
    expect(f).toContain('!loader-exec');
    expect(f).toContain('!exe-deleted');
    expect(f).toContain('findings (2)');
    expect(f.split('\n').at(-1)).toBe(
      footerItems('table')
        .map((i) => ` ${i.hint}  ${i.label}`)
        .join('  '),
    );
    // The hostile comm is shown escaped; only ink's own SGR colour codes remain.
    expect(f.replace(/\x1b\[[0-9;]*m/g, '')).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
    expect(f).toContain('\\x1b[2J\\x1b]0;p…'); // escaped, then cut to the column
  });

  it('j/k and arrows move the selection; s cycles the sort', async () => {
    const { app } = mount();
    await tick();
    const first = selectedLine(frame(app));
    app.stdin.write('j');
    await tick();
    const second = selectedLine(frame(app));
    expect(second).not.toBe(first);
    app.stdin.write('k');
    await tick();
    expect(selectedLine(frame(app))).toBe(first);
    app.stdin.write('\x1b[B'); // down arrow
    await tick();
    expect(selectedLine(frame(app))).toBe(second);

    expect(frame(app)).toContain('sort recent');
    app.stdin.write('s');
    await tick();
    expect(frame(app)).toContain('sort pid');
    // By pid: the smallest pid (1000, worker0) comes first.
    const rows = frame(app)
      .split('\n')
      .filter((l) => /^[ >]\d/.test(l));
    expect(rows[0]).toMatch(/^[ >]1000\s+worker0/);
  });

  it('f filters the table by typed text, Enter applies, Esc cancels', async () => {
    const { app } = mount();
    await tick();
    app.stdin.write('f');
    await tick();
    expect(frame(app)).toContain('filter:');
    expect(frame(app).split('\n').at(-1)).toBe(
      footerItems('filter')
        .map((i) => ` ${i.hint}  ${i.label}`)
        .join('  '),
    );
    app.stdin.write('vanish');
    await tick();
    app.stdin.write('\r');
    await tick();
    const f = frame(app);
    expect(f).toContain('mms: 1 shown');
    expect(f).toContain('filter "vanish"');
    expect(f).toMatch(/>4000\s+vanishing/);
    expect(f).not.toContain('worker0');
  });

  it('text and Enter arriving in one chunk (a paste, tmux send-keys) apply the filter', async () => {
    const { app } = mount();
    await tick();
    app.stdin.write('f');
    await tick();
    app.stdin.write('vanish\r');
    await tick();
    const f = frame(app);
    expect(f).toContain('filter "vanish"');
    expect(f).not.toContain('filter:');
    expect(f).toMatch(/>4000\s+vanishing/);
  });

  it('keys arriving in one chunk are pressed one by one: "js" moves and sorts, "fvan" opens the filter and types', async () => {
    const { app } = mount();
    await tick();
    const first = selectedLine(frame(app));
    app.stdin.write('js');
    await tick();
    expect(selectedLine(frame(app))).not.toBe(first);
    expect(frame(app)).toContain('sort pid');
    app.stdin.write('fvanish\r');
    await tick();
    expect(frame(app)).toContain('filter "vanish"');
  });

  it('"jq" in one chunk quits', async () => {
    const { app, quits } = mount();
    await tick();
    app.stdin.write('jq');
    await tick();
    expect(quits()).toBe(1);
  });

  it('Enter opens the detail pane with timeline and mappings; Esc goes back', async () => {
    const { app } = mount();
    await tick();
    app.stdin.write('f');
    app.stdin.write('vanish');
    app.stdin.write('\r');
    await tick();
    app.stdin.write('\r');
    await tick();
    const d = frame(app);
    expect(d).toMatch(/mm 0xffff8882\w+ · pids 4000 · comm vanishing/);
    expect(d).toContain('timeline (1');
    expect(d).toMatch(/exec pid 4000 exe=\/tmp\/vanishing/);
    expect(d).toContain('executable mappings (1)');
    expect(d).toContain('000000400000-000000401000 r-xp /tmp/vanishing (deleted)');
    expect(d).toContain('!exe-deleted');
    expect(d.split('\n').at(-1)).toContain('back');
    app.stdin.write('\x1b');
    await tick(80);
    expect(frame(app)).toContain('mms: 1 shown');
  });

  it('p pauses: new events do not show until resumed, and the header says PAUSED', async () => {
    const { app, store } = mount();
    await tick();
    app.stdin.write('p');
    await tick();
    expect(store.paused).toBe(true);
    expect(frame(app)).toContain('PAUSED');
    store.onEvent({
      kind: 'exec',
      ts: 6_000_000_000_000,
      pid: 7777,
      tid: 7777,
      comm: 'latecomer',
      oldTid: 7777,
      ppid: 1,
      mm: '0xffff888300000000',
      exe: { file: null, dev: 1, ino: 2, name: 'late', path: '/usr/bin/late', pathTruncated: false },
      startCode: 0,
      endCode: 0,
      filename: '/usr/bin/late',
    });
    store.flush();
    await tick(150);
    expect(frame(app)).not.toContain('latecomer');
    app.stdin.write('p');
    await tick(150);
    expect(store.paused).toBe(false);
    expect(frame(app)).toContain('latecomer');
    expect(frame(app)).not.toContain('PAUSED');
  });

  it('q, Esc and Ctrl-C (even while typing a filter) ask to quit', async () => {
    for (const keys of [['q'], ['\x1b'], ['\x03'], ['f', 'ab', '\x03']]) {
      const { app, quits } = mount();
      await tick();
      for (const k of keys) {
        app.stdin.write(k);
        await tick(80);
      }
      expect(quits(), JSON.stringify(keys)).toBe(1);
      cleanup?.();
      cleanup = null;
    }
  });
});
