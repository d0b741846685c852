import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { Dashboard, type DashboardProps } from '../../dashboards/components/Dashboard.js';
import type { FindingRow, MmDetail, MmRow, SessionStats } from '../../dashboards/display-types.js';
import { footerItems } from '../../dashboards/keybindings.js';
import { initialUiState } from '../../dashboards/ui-state.js';

const stats: SessionStats = {
  source: 'replay',
  flavor: 'tracepoint',
  kernel: '6.18.0-test',
  eventRate: 42,
  events: 1234,
  lostEvents: 7,
  parseIssues: 0,
  paused: false,
  speed: 'max',
  attached: false,
  ended: null,
  clockRef: { monotonicNs: 0, wallMs: Date.UTC(2026, 0, 1) },
};

const row = (key: string, pid: number, comm: string, exe: string, badge: string | null = null): MmRow => ({
  key,
  mm: `0xffff88810000${key}`,
  pids: [pid],
  comm,
  exe,
  state: "exec'd",
  vmaWalk: badge ? '/usr/lib/libc.so.6 @7f00' : exe,
  badge,
  findings: badge ? 1 : 0,
  uncertain: false,
  lastTs: pid,
});

const finding: FindingRow = {
  id: 'f1',
  ts: 1_500_000_000,
  class: 'loader-exec',
  kind: 'mismatch',
  pid: 200,
  comm: 'sleep',
  mm: '0xffff888100000b',
  exe: '/usr/lib64/ld-linux-x86-64.so.2',
  expected: null,
  vmaWalk: '/usr/lib/libc.so.6 @7f00',
  legacyWalk: '',
  uncertain: false,
  explanation: 'started through the loader',
};

const rows = [row('a', 100, 'bash', '/usr/bin/bash'), row('b', 200, 'sleep', '/usr/lib64/ld-linux-x86-64.so.2', 'loader-exec')];

const props = (over: Partial<DashboardProps> = {}): DashboardProps => ({
  stats,
  rows,
  mmCount: rows.length,
  findings: [finding],
  detail: null,
  ui: initialUiState,
  selectedKey: 'a',
  width: 160,
  height: 30,
  ...over,
});

describe('Dashboard (pure component)', () => {
  it('shows the header facts, the rows, the badge, the feed and the footer from the bindings', () => {
    const { lastFrame } = render(<Dashboard {...props()} />);
    const frame = lastFrame()!;
    for (const text of ['exetrace replay', 'flavor tracepoint', 'kernel 6.18.0-test', '42 ev/s', 'lost 7', '2 mms', 'speed max', 'PLAYING']) {
      expect(frame).toContain(text);
    }
    expect(frame).toMatch(/>100\s+bash\s+\/usr\/bin\/bash/);
    expect(frame).toMatch(/200\s+sleep\s+\/usr\/lib64\/ld-linux-x86-64\.so\.2.*!loader-exec/);
    expect(frame).toContain('00:00:01.500 !loader-exec pid 200 sleep');
    const footer = frame.split('\n').at(-1)!;
    expect(footer).toBe(
      footerItems('table')
        .map((i) => ` ${i.hint}  ${i.label}`)
        .join('  '),
    );
  });

  it('live says STARTING until the probes are attached, then LIVE', () => {
    const live = { ...stats, source: 'live' as const, speed: null };
    const starting = render(<Dashboard {...props({ stats: live })} />).lastFrame()!;
    expect(starting).toContain('exetrace live │ STARTING (attaching probes)');
    expect(starting).not.toContain('LIVE');
    expect(render(<Dashboard {...props({ stats: { ...live, attached: true } })} />).lastFrame()).toContain('exetrace live │ LIVE');
  });

  it('shows PAUSED, the filter prompt and the detail-mode footer', () => {
    const paused = render(
      <Dashboard {...props({ stats: { ...stats, paused: true }, ui: { ...initialUiState, mode: 'filter', draft: 'sle' } })} />,
    ).lastFrame()!;
    expect(paused).toContain('PAUSED');
    expect(paused).toContain('filter: sle');
    expect(paused.split('\n').at(-1)).toBe(
      footerItems('filter')
        .map((i) => ` ${i.hint}  ${i.label}`)
        .join('  '),
    );
  });

  it('renders the detail pane: what was asked for, timeline and executable mappings', () => {
    const detail: MmDetail = {
      row: rows[1]!,
      asked: 'filename /dev/fd/3, argv[0] "sshd", comm "3"',
      timeline: [{ ts: 1_000_000_000, text: 'exec pid 200 exe=/usr/lib64/ld-linux-x86-64.so.2' }],
      mappings: [{ start: 0x7f0000000000, end: 0x7f0000001000, perms: 'r-xp', path: '/usr/lib/libc.so.6 [snapshot]' }],
      findings: [finding],
    };
    const frame = render(<Dashboard {...props({ ui: { ...initialUiState, mode: 'detail', selectedKey: 'b' }, detail })} />).lastFrame()!;
    expect(frame).toContain('mm 0xffff88810000b');
    expect(frame).toContain('asked: filename /dev/fd/3, argv[0] "sshd", comm "3"');
    expect(frame).toContain('timeline (1');
    expect(frame).toContain('00:00:01.000  exec pid 200');
    expect(frame).toContain('7f0000000000-7f0000001000 r-xp /usr/lib/libc.so.6 [snapshot]');
    expect(frame).toContain('!loader-exec: started through the loader');
    expect(frame.split('\n').at(-1)).toContain('back');
  });

  it('never lets a hostile comm or path reach the terminal raw', () => {
    const evil = row('e', 666, '\x1b[2J\x1b]0;owned\x07x\ny', '/tmp/\u202eexe.\x9b31m\udcff');
    const f = { ...finding, id: 'f2', comm: evil.comm, exe: evil.exe, explanation: 'bad\rname' };
    const frame = render(<Dashboard {...props({ rows: [evil], mmCount: 1, findings: [f], selectedKey: 'e' })} />).lastFrame()!;
    // ink itself colours with SGR (ESC[...m); strip only those, nothing else may remain.
    const withoutSgr = frame.replace(/\x1b\[[0-9;]*m/g, '');
    expect(withoutSgr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\ud800-\udfff]/);
    expect(frame).toContain('\\x1b[2J\\x1b]0;owned\\x07x\\x0ay');
    expect(frame).toContain('/tmp/\\u{202e}exe.\\x9b31m\\xff');
  });
});
