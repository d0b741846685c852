// What each bpftrace version between 0.17 and 0.23 changed for the probes, and how exetrace
// answers each change (bpftrace's CHANGELOG.md and docs/migration_guide.md): the dialect
// choice, the trial programs, the stderr messages, the lost_events JSON shape.
import { describe, expect, it } from 'vitest';
import { changesFor, dialectFor, parseBpftraceVersion, STRING_TRAILER_ENV, unprovenNote } from '../../src/trace/bpftrace-dialect.js';
import { parseBpftraceJsonLine } from '../../src/trace/bpftrace-json.js';
import { classifyStderr } from '../../src/trace/bpftrace-stderr.js';
import { TRIAL_PROGRAMS } from '../../src/trace/flavor-ladder.js';
import { probeScriptPath, programRelativePath } from '../../src/trace/probe-program.js';
import { existsSync } from 'node:fs';
import { btfFromBpftraceInfo } from '../../src/kernel/host-facts.js';

const v = (s: string) => parseBpftraceVersion(s);

describe('bpftrace version and dialect', () => {
  it('parses what bpftrace --version prints', () => {
    expect(v('v0.17.0')).toEqual({ major: 0, minor: 17, patch: 0 });
    expect(v('v0.23.2')).toEqual({ major: 0, minor: 23, patch: 2 });
    expect(v('0.24.0-rc0')).toEqual({ major: 0, minor: 24, patch: 0 });
    expect(v('v0.20')).toEqual({ major: 0, minor: 20, patch: 0 });
    expect(v('bpftrace')).toBeNull();
  });

  it('gives the 0.23 programs to 0.23 and later, the 0.17 ones to the rest', () => {
    expect(dialectFor(v('v0.17.0'))).toBe('0.17');
    expect(dialectFor(v('v0.22.1'))).toBe('0.17');
    expect(dialectFor(v('v0.23.0'))).toBe('0.23');
    expect(dialectFor(v('v0.23.2'))).toBe('0.23');
    expect(dialectFor(v('v0.26.1'))).toBe('0.23');
    expect(dialectFor(v('v1.0.0'))).toBe('0.23');
    expect(dialectFor(null)).toBe('0.17');
  });

  it('the programs of each dialect exist in this build', () => {
    for (const dialect of ['0.17', '0.23'] as const)
      for (const flavor of ['tracepoint', 'kprobe', 'kfunc'] as const) {
        expect(existsSync(probeScriptPath(flavor, { dialect, execEntry: 'begin_new_exec' })), `${dialect} ${flavor}`).toBe(true);
      }
    expect(programRelativePath('kfunc', { dialect: '0.23', execEntry: 'flush_old_exec' })).toBe('probes/bpftrace-0.23/flush_old_exec/kfunc.bt');
    expect(programRelativePath('tracepoint', { dialect: '0.17', execEntry: 'flush_old_exec' })).toBe('probes/tracepoint.bt');
  });

  it('lists no change for 0.17 and every probe-touching change for 0.23', () => {
    expect(changesFor(v('v0.17.0'))).toEqual([]);
    const text = changesFor(v('v0.23.2'))
      .map((c) => `${c.since} ${c.change}`)
      .join('\n');
    for (const item of [
      /0\.18 .*trailer/,
      /0\.19 args is a struct/,
      /0\.20 fentry\/fexit/,
      /0\.20 config block.*max_strlen/,
      /0\.22 .*block scoped/,
      /0\.22 pid and tid are uint32/,
      /0\.23 max_strlen defaults to 1024/,
      /0\.23 error messages/,
    ]) {
      expect(text).toMatch(item);
    }
    // 0.20 sees the changes up to 0.20 only.
    expect(changesFor(v('v0.20.4')).every((c) => Number(c.since.split('.')[1]) <= 20)).toBe(true);
  });

  it('says when a version was never run by the tests', () => {
    expect(unprovenNote(v('v0.17.0'))).toBeNull();
    expect(unprovenNote(v('v0.23.2'))).toBeNull();
    expect(unprovenNote(v('v0.24.1'))).toMatch(/0\.24\.1 was never run/);
    expect(unprovenNote(null)).toMatch(/unknown/);
  });

  it('turns the truncation trailer off through the environment (0.18+ reads it)', () => {
    expect(STRING_TRAILER_ENV).toEqual({ BPFTRACE_STR_TRUNC_TRAILER: '' });
  });
});

describe('trial programs per dialect', () => {
  it('spells fentry in 0.23 and kfunc in 0.17; the tracepoint trial needs sched_prepare_exec', () => {
    expect(TRIAL_PROGRAMS['0.17'].kfunc).toMatch(/^kfunc:mmput /);
    expect(TRIAL_PROGRAMS['0.23'].kfunc).toMatch(/^fentry:mmput /);
    for (const d of ['0.17', '0.23'] as const) expect(TRIAL_PROGRAMS[d].tracepoint).toMatch(/^tracepoint:sched:sched_prepare_exec /);
  });
});

describe('bpftrace 0.23 stderr', () => {
  it('reads an attach failure without quotes', () => {
    const r = classifyStderr([
      'create_probe_event: open(/sys/kernel/tracing/kprobe_events): No such file or directory',
      'ERROR: Error attaching probe: kprobe:mmput',
    ]);
    expect(r).toMatchObject({ kind: 'attach-failed', probe: 'kprobe:mmput', shortMessage: 'probe kprobe:mmput failed to attach' });
    expect(r!.cause).toContain('kprobe_events');
    // 0.17's quoted form still reads the same.
    expect(classifyStderr(["ERROR: Error attaching probe: 'kprobe:mmput'"])).toMatchObject({ probe: 'kprobe:mmput' });
  });

  it('reads "fentry/fexit not available" and the unreadable available_filter_functions as kfunc refused', () => {
    for (const line of [
      'stdin:1:1-13: ERROR: fentry/fexit not available for your kernel version.',
      'stdin:1:1-15: ERROR: kfunc/kretfunc not available for your kernel version.',
      '/opt/exetrace/probes/bpftrace-0.23/kfunc.bt:32-36: ERROR: fentry:begin_new_exec: could not read traceable functions from /sys/kernel/tracing/available_filter_functions (is tracefs mounted?)',
    ]) {
      expect(classifyStderr([line, 'fentry:mmput { } BEGIN { exit(); }', '~~~~~~~~~~~~']), line).toMatchObject({ kind: 'attach-failed', probe: 'kfunc' });
    }
  });

  it('reads a compile error located by a line range without a column', () => {
    expect(classifyStderr(['prog.bt:10-12: ERROR: Undefined or undeclared variable: $x'])).toMatchObject({
      kind: 'compile-failed',
      shortMessage: 'bpftrace rejected the program at prog.bt:10-12: Undefined or undeclared variable: $x',
    });
  });

  it('treats 0.23 warnings as no failure', () => {
    expect(
      classifyStderr(['/p.bt:255:52-53: WARNING: Addrspace mismatch', '    if (args.addr < $imm->start_brk) { $keep = 1; }', '               ~']),
    ).toBeNull();
  });
});

describe('lost_events JSON across versions', () => {
  it('has the same shape in 0.17 and 0.23 (both print {"events": N} under data)', () => {
    expect(parseBpftraceJsonLine('{"type": "lost_events", "data": {"events": 7}}')).toEqual({ type: 'lost_events', events: 7 });
  });

  it('reports the string-data lost_events message (0.23 watchpoints) as a parse issue, not a count', () => {
    const r = parseBpftraceJsonLine('{"type": "lost_events", "data": "Failed to attach watchpoint probe. You are out of watchpoint registers."}');
    expect(r).toEqual({ type: 'error', cause: 'lost_events record without a valid data.events count' });
  });
});

describe('helper_error records (printed by default since 0.23)', () => {
  it('reads 0.23 and 0.17 shapes', () => {
    expect(
      parseBpftraceJsonLine(
        '{"type": "helper_error", "msg": "Can\'t delete map element because it does not exist.", "helper": "map_delete_elem", "retcode": -2, "line": 237, "col": 3}',
      ),
    ).toEqual({ type: 'helper_error', helper: 'map_delete_elem', retcode: -2, line: 237, message: "Can't delete map element because it does not exist." });
    expect(parseBpftraceJsonLine('{"type": "helper_error", "helper": "map_update_elem", "retcode": -7, "line": 3, "col": 1}')).toMatchObject({
      type: 'helper_error',
      message: null,
    });
    expect(parseBpftraceJsonLine('{"type": "helper_error", "msg": "x"}')).toMatchObject({ type: 'error' });
  });
});

describe('bpftrace --info: does bpftrace find the kernel BTF itself?', () => {
  it('reads 0.17 (one feature a line) and 0.23 (two columns, "module btf" apart)', () => {
    expect(btfFromBpftraceInfo('Kernel features\n  Instruction limit: 1000000\n  btf: no\n  map batch: yes\n')).toBe(false);
    expect(
      btfFromBpftraceInfo('  Instruction limit: 1000000       btf: yes                           \n  module btf: yes                  Kernel DWARF: no\n'),
    ).toBe(true);
    expect(btfFromBpftraceInfo('  module btf: no                   Kernel DWARF: no\n  Instruction limit: 1000000       btf: yes\n')).toBe(true);
    expect(btfFromBpftraceInfo('no such line')).toBeNull();
  });
});
