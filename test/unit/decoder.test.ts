import { describe, it, expect } from 'vitest';
import { ProbeDecoder, MAX_PENDING_AGE, kernelDevToStatDev, resolveExeTarget, type DecodeOutput } from '../../src/trace/decoder.js';
import { encodeKernelString } from '../../src/trace/kernel-string.js';
import type { TraceEvent } from '../../src/trace/events.js';

/** Wraps record text as bpftrace 0.17 prints it with -f json. */
function rec(text: string): string {
  let esc = '';
  for (const b of Buffer.from(text + '\n', 'latin1')) {
    if (b === 0x22) esc += '\\"';
    else if (b === 0x5c) esc += '\\\\';
    else if (b === 0x0a) esc += '\\n';
    else if (b < 0x20) esc += '\\u' + b.toString(16).padStart(4, '0');
    else if (b >= 0x80) esc += '\\uffffff' + b.toString(16);
    else esc += String.fromCharCode(b);
  }
  return `{"type": "printf", "data": "${esc}"}`;
}

function run(lines: string[], flush = true): DecodeOutput[] {
  const d = new ProbeDecoder();
  const out = lines.flatMap((l, i) => d.push(l, i + 1));
  return flush ? [...out, ...d.flush()] : out;
}
const events = (o: DecodeOutput[]) => o.flatMap((x) => (x.type === 'event' ? [x.event] : []));
const issues = (o: DecodeOutput[]) => o.flatMap((x) => (x.type === 'issue' ? [x.issue] : []));
function one(lines: string[]): TraceEvent {
  const out = run(lines);
  expect(issues(out)).toEqual([]);
  const ev = events(out);
  expect(ev).toHaveLength(1);
  return ev[0]!;
}

const MKDEV_254_0 = 254 * 2 ** 20;
const HOSTILE = 'q"\\\n \xff\x1bx'; // latin1: byte 0xff

describe('ProbeDecoder: every kind', () => {
  it('exec with an exe path built from reversed components and stat dev', () => {
    const e = one([
      rec(`H exec 100 10 11 5 10 1 0xffff888100070640 94000 95000 0xffff8881f8dd0780 ${MKDEV_254_0} 2147263 3`),
      rec('P 100 11 comm ' + HOSTILE),
      rec('P 100 11 filename /tmp/d/' + HOSTILE),
      rec('P 100 11 exe.c0 ' + HOSTILE),
      rec('P 100 11 exe.c1 d'),
      rec('P 100 11 exe.c2 tmp'),
    ]);
    expect(e).toMatchObject({ kind: 'exec', ts: 100, pid: 10, tid: 11, oldTid: 10, ppid: 1, mm: '0xffff888100070640', startCode: 94000, endCode: 95000 });
    if (e.kind !== 'exec') throw new Error();
    expect(e.exe).toMatchObject({ file: '0xffff8881f8dd0780', dev: 65024, ino: 2147263, pathTruncated: false });
    expect(encodeKernelString(e.comm)).toEqual(Buffer.from(HOSTILE, 'latin1'));
    expect(encodeKernelString(e.exe!.name)).toEqual(Buffer.from(HOSTILE, 'latin1'));
    expect(encodeKernelString(e.exe!.path!)).toEqual(Buffer.from('/tmp/d/' + HOSTILE, 'latin1'));
  });

  it('exec_begin', () => {
    expect(one([rec('H exec_begin 5 1 1 3 0x0'), rec('P 5 1 comm sh'), rec('P 5 1 filename /x.sh'), rec('P 5 1 interp /bin/sh')])).toEqual({
      kind: 'exec_begin', ts: 5, pid: 1, tid: 1, comm: 'sh', oldMm: null, filename: '/x.sh', interp: '/bin/sh',
    });
  });

  it('fork of a thread and of a process', () => {
    const t = one([rec('H fork 7 10 10 1 10 12 4001536 0xffff1'), rec('P 7 10 comm a')]);
    expect(t).toMatchObject({ kind: 'fork', childPid: 10, childTid: 12, thread: true, sharesMm: true, parentMm: '0xffff1' });
    const p = one([rec('H fork 8 10 10 1 13 13 18874368 0xffff1'), rec('P 8 10 comm a')]);
    expect(p).toMatchObject({ kind: 'fork', childPid: 13, thread: false, sharesMm: false });
  });

  it('mm_attach, mm_exit with a NULL exe, exit', () => {
    expect(one([rec(`H mm_attach 9 13 13 2 10 0xffff2 0xf1 ${MKDEV_254_0} 5 1`), rec('P 9 13 comm a'), rec('P 9 13 exe.c0 a')])).toMatchObject({
      kind: 'mm_attach', ppid: 10, mm: '0xffff2', exe: { file: '0xf1', dev: 65024, ino: 5, name: 'a', path: '/a' },
    });
    expect(one([rec('H mm_exit 10 13 13 1 0xffff2 0x0 0 0 0'), rec('P 10 13 comm a')])).toMatchObject({ kind: 'mm_exit', mm: '0xffff2', exe: null });
    expect(one([rec('H exit 11 13 13 1 1 1792'), rec('P 11 13 comm a')])).toMatchObject({ kind: 'exit', groupDead: true, exitCode: 1792 });
  });

  it('mmap, munmap, mremap, mprotect with negative returns', () => {
    expect(one([rec(`H mmap 12 1 1 2 0xa 140000 4096 5 2 3 0 0xf2 ${MKDEV_254_0} 9 1`), rec('P 12 1 comm a'), rec('P 12 1 file.c0 libc.so.6')])).toMatchObject({
      kind: 'mmap', addr: 140000, len: 4096, prot: 5, flags: 2, fd: 3, pgoff: 0, file: { name: 'libc.so.6', path: '/libc.so.6' },
    });
    expect(one([rec('H munmap 13 1 1 1 0xa -1 16384 -22'), rec('P 13 1 comm a')])).toMatchObject({ kind: 'munmap', addr: -1, len: 16384, ret: -22 });
    expect(one([rec('H mremap 14 1 1 1 0xa 4096 8192 16384 1 -14'), rec('P 14 1 comm a')])).toMatchObject({
      kind: 'mremap', oldAddr: 4096, oldLen: 8192, newLen: 16384, flags: 1, ret: -14,
    });
    expect(one([rec('H mprotect 15 1 1 1 0xa 4096 4096 1 0'), rec('P 15 1 comm a')])).toMatchObject({ kind: 'mprotect', prot: 1, ret: 0 });
  });

  it('prctl_mm with before and after files', () => {
    const e = one([
      rec(`H prctl_mm 16 1 1 4 0xa 14 3 0 0xf1 ${MKDEV_254_0} 5 1 0xf2 ${MKDEV_254_0} 6 2`),
      rec('P 16 1 comm a'), rec('P 16 1 before.c0 old'), rec('P 16 1 after.c0 new'), rec('P 16 1 after.c1 bin'),
    ]);
    expect(e).toMatchObject({ kind: 'prctl_mm', subOption: 14, exeFd: 3, ret: 0, exeBefore: { ino: 5, path: '/old' }, exeAfter: { ino: 6, path: '/bin/new' } });
  });

  it('exe_read: readlink with answer, relative readlinkat, openat, execve', () => {
    expect(one([rec('H exe_read 17 50 50 3 0 8'), rec('P 17 50 comm a'), rec('P 17 50 path /proc/self/exe'), rec('P 17 50 answer /bin/x\n')])).toMatchObject({
      kind: 'exe_read', syscall: 'readlink', path: '/proc/self/exe', targetPid: 50, dirName: null, ret: 8, answer: '/bin/x\n',
    });
    expect(one([rec('H exe_read 18 50 50 3 1 -2'), rec('P 18 50 comm a'), rec('P 18 50 path exe'), rec('P 18 50 dir 77')])).toMatchObject({
      syscall: 'readlinkat', dirName: '77', targetPid: 77, answer: null, ret: -2,
    });
    expect(one([rec('H exe_read 19 50 50 2 2 4'), rec('P 19 50 comm a'), rec('P 19 50 path /proc/123/exe')])).toMatchObject({ syscall: 'openat', targetPid: 123 });
    expect(one([rec('H exe_read 20 50 50 2 3 0'), rec('P 20 50 comm a'), rec('P 20 50 path /proc/thread-self/exe')])).toMatchObject({ syscall: 'execve', targetPid: 50 });
  });

  it('exe_read: a readlink answer is cut to ret bytes (readlink does not NUL-terminate)', () => {
    expect(one([rec('H exe_read 21 50 50 3 0 4'), rec('P 21 50 comm a'), rec('P 21 50 path /proc/self/exe'), rec('P 21 50 answer /binJUNK')])).toMatchObject({
      ret: 4, answer: '/bin',
    });
  });

  it('exe_read sys 4: proc_exe_link with the target from dir and the answer from its path walk', () => {
    // Parts in any order; the answer is rebuilt leaf-first like a file ref's path.
    expect(one([
      rec('H exe_read 21 50 51 6 4 0'), rec('P 21 51 answer.c1 bin'), rec('P 21 51 comm a'), rec('P 21 51 path exe'),
      rec('P 21 51 dir 123'), rec('P 21 51 answer.c0 x y'), rec('P 21 51 answer.c2 usr'),
    ])).toEqual({
      kind: 'exe_read', ts: 21, pid: 50, tid: 51, comm: 'a', syscall: 'proc_exe_link', path: 'exe', dirName: '123',
      targetPid: 123, ret: 0, answer: '/usr/bin/x y',
    });
    // Failed resolution (-ENOENT) or a walk cut at its bound: no answer parts.
    expect(one([rec('H exe_read 22 50 50 3 4 -2'), rec('P 22 50 comm a'), rec('P 22 50 path exe'), rec('P 22 50 dir 9')])).toMatchObject({
      syscall: 'proc_exe_link', targetPid: 9, ret: -2, answer: null,
    });
    // A lost component leaves no half path.
    const out = run([rec('H exe_read 23 50 50 5 4 0'), rec('P 23 50 comm a'), rec('P 23 50 path exe'), rec('P 23 50 dir 9'), rec('P 23 50 answer.c1 bin')]);
    expect(events(out)).toMatchObject([{ syscall: 'proc_exe_link', answer: null }]);
    expect(issues(out).map((i) => i.cause)).toEqual([expect.stringContaining('4 of 5 parts arrived')]);
    // Codes past proc_exe_link are still refused.
    expect(issues(run([rec('H exe_read 24 50 50 0 5 0')])).map((i) => i.cause)).toEqual(['exe_read: unknown syscall code 5']);
  });

  it('lost_events becomes a gap at the last seen ts; S ready becomes attached', () => {
    const out = run([
      '{"type": "attached_probes", "data": {"probes": 31}}',
      rec('S ready'),
      rec('H exit 500 1 1 0 0 0'),
      '{"type": "lost_events", "data": {"events": 7}}',
      '',
    ]);
    expect(out[0]).toEqual({ type: 'attached', probes: 31 });
    expect(out.at(-1)).toEqual({ type: 'event', event: { kind: 'gap', source: 'bpftrace', lost: 7, ts: 500 } });
    expect(issues(out)).toEqual([]);
  });

  it('joins by (ts, tid) when records of two CPUs interleave', () => {
    const out = run([
      rec('H exit 1 1 1 1 0 0'), rec('H exit 1 2 2 1 0 0'), rec('P 1 2 comm two'), rec('P 1 1 comm one'),
    ]);
    expect(events(out).map((e) => 'comm' in e && e.comm)).toEqual(['two', 'one']);
  });
});

describe('ProbeDecoder: malformed input never throws', () => {
  it.each([
    ['{"type": "printf", "data": "H exec 1', /not JSON/],
    [rec('H nosuch 1 1 1 0'), /unknown event kind "nosuch"/],
    [rec('H exit 1 1 1 1 0'), /exit head has 1 fields after nparts, expected 2/],
    [rec('H exit x 1 1 0 0 0'), /ts: "x" is not a decimal number/],
    [rec('H exit 99999999999999999999 1 1 0 0 0'), /too large/],
    [rec('H mm_exit 1 1 1 0 0xzz 0x0 0 0 0'), /not a 0x-hex pointer/],
    [rec('H mm_exit 1 1 1 0 0x1 0x0 0 0 999'), /out of range/],
    [rec('H exit 1 1 1 -1 0 0'), /nparts -1 out of range/],
    [rec('P 1 1 comm orphan'), /has no head/],
    [rec('P 1 1 bad-label x'), /bad part label/],
    [rec('Z what'), /neither a head/],
    ['{"type": "printf", "data": "H exit 1 1 1 0 0 0"}', /newline/],
    [rec('H exec_begin 1 1 1 0 \x1b[2J'), /non-printable/],
    ['{"type": "map", "data": {}}', /unexpected bpftrace record type "map"/],
  ])('%s', (line, cause) => {
    const out = run([line]);
    const iss = issues(out);
    expect(iss).toHaveLength(1);
    expect(iss[0]).toMatchObject({ source: 'bpftrace', line: 1, raw: line });
    expect(iss[0]!.cause).toMatch(cause);
    expect(events(out)).toEqual([]);
  });

  it('emits a head whose parts never came, with an issue, on flush', () => {
    const out = run([rec(`H exec 1 1 1 4 1 0 0xa 1 2 0xf ${MKDEV_254_0} 3 2`), rec('P 1 1 comm a'), rec('P 1 1 exe.c0 x')]);
    expect(issues(out)[0]!.cause).toMatch(/2 of 4 parts arrived/);
    const e = events(out)[0]!;
    expect(e).toMatchObject({ kind: 'exec', comm: 'a', filename: '', exe: { name: 'x', path: null } });
  });

  it('bounds pending heads: an incomplete head goes out after MAX_PENDING_AGE newer records', () => {
    const lines = [rec('H exit 1 1 1 1 0 0')];
    for (let i = 0; i <= MAX_PENDING_AGE; i++) lines.push(rec(`H exit ${i + 10} 2 2 0 0 0`));
    const out = run(lines, false);
    expect(issues(out)).toHaveLength(1);
    expect(events(out)).toHaveLength(MAX_PENDING_AGE + 2);
  });

  it('marks a truncated walk', () => {
    const e = one([rec(`H mm_exit 1 1 1 2 0xa 0xf ${MKDEV_254_0} 3 -1`), rec('P 1 1 comm a'), rec('P 1 1 exe.c0 deep')]);
    expect(e).toMatchObject({ exe: { name: 'deep', path: null, pathTruncated: true } });
  });
});

describe('helpers', () => {
  it('kernelDevToStatDev', () => {
    expect(kernelDevToStatDev(MKDEV_254_0)).toBe(65024);
    expect(kernelDevToStatDev(1)).toBe(1); // 0:1, memfd's device
    expect(kernelDevToStatDev(8 * 2 ** 20 + 1)).toBe(2049);
    expect(kernelDevToStatDev(259 * 2 ** 20 + 300)).toBe(Number((BigInt(259) << 8n) | (BigInt(300 & 0xffffff00) << 12n) | BigInt(300 & 0xff)));
  });

  it('resolveExeTarget', () => {
    expect(resolveExeTarget('/proc/self/exe', null, 5)).toBe(5);
    expect(resolveExeTarget('/proc/123/exe', null, 5)).toBe(123);
    expect(resolveExeTarget('/proc/123/task/456/exe', null, 5)).toBe(123);
    expect(resolveExeTarget('/proc//./123/exe', null, 5)).toBe(123);
    expect(resolveExeTarget('exe', '77', 5)).toBe(77);
    expect(resolveExeTarget('self/exe', 'proc', 5)).toBe(5);
    expect(resolveExeTarget('456/exe', 'task', 5)).toBe(456);
    expect(resolveExeTarget('/proc/../proc/1/exe', null, 5)).toBeNull();
    expect(resolveExeTarget('/proc/abc/exe', null, 5)).toBeNull();
    expect(resolveExeTarget('exe', null, 5)).toBeNull();
    expect(resolveExeTarget('/tmp/exe', null, 5)).toBeNull();
  });
});
