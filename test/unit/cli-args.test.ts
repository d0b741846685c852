import { describe, expect, it } from 'vitest';
import { classifyStderr } from '../../src/trace/bpftrace-stderr.js';
import { parsePid } from '../../src/cli/options.js';
import { parseDuration } from '../../src/cli/record.js';
import { runCli } from '../support/cli.js';

describe('argument parsers', () => {
  it('parsePid accepts plain positive integers only', () => {
    expect(parsePid('1')).toBe(1);
    expect(parsePid('4194304')).toBe(4194304);
    for (const bad of ['0', '-1', '1e3', '0x10', '12 ', '1;exit', '', '4194305', '01']) expect(() => parsePid(bad), bad).toThrow(/PID/);
  });
  it('parseDuration accepts positive seconds', () => {
    expect(parseDuration('2.5')).toBe(2.5);
    expect(parseDuration('10')).toBe(10);
    for (const bad of ['0', '-1', 'abc', '1s', '', 'Infinity', 'NaN']) expect(() => parseDuration(bad), bad).toThrow(/duration/);
  });
});

describe('bpftrace stderr classification (messages measured with 0.17 on this host)', () => {
  const memlock =
    'ERROR: Unknown error -1: couldn\'t set RLIMIT_MEMLOCK for bpftrace. If your program is not loading, you can try "ulimit -l 8192" to fix the problem';
  it('ignores the RLIMIT_MEMLOCK line', () => {
    expect(classifyStderr([memlock, ''])).toBeNull();
  });
  it('names the probe that failed to attach', () => {
    const r = classifyStderr([
      memlock,
      'stdin:1:1-20: WARNING: do_nanosleep is not traceable (either non-existing, inlined, or marked as "notrace"); attaching to it will likely fail',
      'create_probe_event: open(/sys/kernel/tracing/kprobe_events): No such file or directory',
      "ERROR: Error attaching probe: 'kprobe:do_nanosleep'",
    ]);
    expect(r).toMatchObject({ kind: 'attach-failed', probe: 'kprobe:do_nanosleep' });
  });
  it('recognises a missing tracepoint, kfunc refusal and not-root', () => {
    expect(classifyStderr([memlock, 'stdin:1:1-32: ERROR: tracepoint not found: sched:nonexistent_tp'])).toMatchObject({
      kind: 'attach-failed',
      probe: 'tracepoint:sched:nonexistent_tp',
    });
    expect(classifyStderr(['stdin:1:1-15: ERROR: kfunc/kretfunc not available for your kernel version.'])).toMatchObject({
      kind: 'attach-failed',
      probe: 'kfunc',
    });
    expect(classifyStderr(['ERROR: bpftrace currently only supports running as the root user.'])).toMatchObject({ kind: 'not-root' });
  });
  it('reports a compile error with its location', () => {
    expect(classifyStderr(["probes/x.bt:3:5-9: ERROR: Unknown identifier: '$x'"])?.shortMessage).toMatch(/probes\/x\.bt:3:5-9/);
  });
});

describe('CLI parsing (real process)', () => {
  it('--help lists the commands; record --help ends with examples', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/record/);
    expect(top.stdout).toMatch(/doctor/);
    const rec = await runCli(['record', '--help']);
    expect(rec.code).toBe(0);
    expect(rec.stdout.trimEnd()).toMatch(/Examples:[\s\S]*exetrace record --out run\.trace[\s\S]*Exit status:[\s\S]*$/);
  });
  it('rejects a bad pid, flavor and duration before doing anything', async () => {
    const pid = await runCli(['record', '--out', '/tmp/x.trace', '-p', '1;kill']);
    expect(pid.code).not.toBe(0);
    expect(pid.stderr).toMatch(/PID/);
    const fl = await runCli(['record', '--out', '/tmp/x.trace', '--flavor', 'uprobe']);
    expect(fl.code).not.toBe(0);
    expect(fl.stderr).toMatch(/Allowed choices are auto, tracepoint, kprobe, kfunc/);
    const d = await runCli(['record', '--out', '/tmp/x.trace', '--duration', '-3']);
    expect(d.code).not.toBe(0);
  });
  it('record requires --out', async () => {
    const r = await runCli(['record']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--out/);
  });
});
