import { describe, it, expect } from 'vitest';
import { ProbeDecoder, kernelDevToStatDev, resolveExeTarget, type DecodeOutput } from '../../src/trace/decoder.js';
import { encodeKernelString } from '../../src/trace/kernel-string.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { ARGV0_IS_FILENAME } from '../../src/trace/exec-filename-join.js';

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

/** A head record: H kind cpu seq ts pid tid nparts fields... comm. */
const H = (kind: string, seq: number, nparts: number, fields: string, comm = 'a', o: { cpu?: number; ts?: number; pid?: number; tid?: number } = {}) =>
  rec(`H ${kind} ${o.cpu ?? 0} ${seq} ${o.ts ?? seq * 10} ${o.pid ?? 1} ${o.tid ?? o.pid ?? 1} ${nparts} ${fields}${fields === '' ? '' : ' '}${comm}`);
const P = (seq: number, label: string, text: string, cpu = 0) => rec(`P ${cpu} ${seq} ${label} ${text}`);
/** comm's 16 bytes (NUL-padded) as the two little-endian hex words task_struct.comm holds. */
function commWords(comm: string): string {
  const b = Buffer.alloc(16);
  Buffer.from(comm, 'latin1').copy(b, 0, 0, 15);
  return `0x${b.readBigUInt64LE(0).toString(16)} 0x${b.readBigUInt64LE(8).toString(16)}`;
}
/** exec_begin's head: oldMm, comm as two words, then the filename; nparts counts the rest. */
const EB = (seq: number, nparts: number, oldMm: string, comm: string, filename: string, o: { cpu?: number; ts?: number } = {}) =>
  rec(`H exec_begin ${o.cpu ?? 0} ${seq} ${o.ts ?? seq * 10} 1 1 ${nparts} ${oldMm} ${commWords(comm)} ${filename}`);

describe('ProbeDecoder: every kind', () => {
  it("exec with an exe path built from reversed components and stat dev; comm is the head's last field", () => {
    const e = one([
      H('exec', 1, 4, `10 1 0xffff888100070640 94000 95000 0xffff8881f8dd0780 ${MKDEV_254_0} 2147263 7 3 61267 0 0 1`, HOSTILE, { ts: 100, pid: 10, tid: 11 }),
      P(1, 'filename', '/tmp/d/' + HOSTILE),
      P(1, 'exe.c0', HOSTILE),
      P(1, 'exe.c1', 'd'),
      P(1, 'exe.c2', 'tmp'),
    ]);
    expect(e).toMatchObject({ kind: 'exec', ts: 100, pid: 10, tid: 11, oldTid: 10, ppid: 1, mm: '0xffff888100070640', startCode: 94000, endCode: 95000 });
    if (e.kind !== 'exec') throw new Error();
    expect(e.exe).toMatchObject({ file: '0xffff8881f8dd0780', dev: 65024, ino: 2147263, pathTruncated: false });
    expect(encodeKernelString(e.comm)).toEqual(Buffer.from(HOSTILE, 'latin1'));
    expect(encodeKernelString(e.exe!.name)).toEqual(Buffer.from(HOSTILE, 'latin1'));
    expect(encodeKernelString(e.exe!.path!)).toEqual(Buffer.from('/tmp/d/' + HOSTILE, 'latin1'));
  });

  it('exec: argv0 is a part unless it equals comm; exe mount, superblock magic and overlay layer are head fields', () => {
    const masq = one([
      H('exec', 1, 2, `1 0 0xa 1 2 0xf1 ${MKDEV_254_0} 5 0 255 16914836 1 0 0`, 'memfd:x'),
      P(1, 'argv0', 'sshd: root'),
      P(1, 'filename', '/dev/fd/3'),
    ]);
    expect(masq).toMatchObject({
      kind: 'exec',
      argv0: 'sshd: root',
      filename: '/dev/fd/3',
      exeMagic: 0x01021994,
      exeInternalMount: true,
      exeOverlayUpper: false,
    });
    const plain = one([H('exec', 1, 0, `1 0 0xa 1 2 0xf1 ${MKDEV_254_0} 5 0 255 2035054128 0 1 1`, 'prog')]);
    expect(plain).toMatchObject({ argv0: 'prog', exeMagic: 0x794c7630, exeInternalMount: false, exeOverlayUpper: true });
    // argv0Src 2: argv[0] is the filename, which exec_begin printed (joined later), or this record did.
    const byPath = one([H('exec', 1, 0, `1 0 0xa 1 2 0xf1 ${MKDEV_254_0} 5 0 255 61267 0 0 2`, 'true')]);
    expect(byPath).toMatchObject({ argv0: ARGV0_IS_FILENAME, filename: '' });
    const withFilename = one([H('exec', 1, 1, `1 0 0xa 1 2 0xf1 ${MKDEV_254_0} 5 0 255 61267 0 0 2`, 'true'), P(1, 'filename', '/bin/true')]);
    expect(withFilename).toMatchObject({ argv0: '/bin/true', filename: '/bin/true' });
  });

  it('a comm with spaces, or empty, is the rest of the head', () => {
    expect(one([H('exit', 1, 0, '1 0', 'a b  c')])).toMatchObject({ comm: 'a b  c' });
    expect(one([H('exit', 1, 0, '1 0', '')])).toMatchObject({ comm: '' });
  });

  it('exec_begin: comm as two words, the filename ends the head; interp defaults to it, printed only when it differs', () => {
    expect(one([EB(1, 0, '0x0', 'sh', '/bin/true', { ts: 5 })])).toEqual({
      kind: 'exec_begin',
      ts: 5,
      pid: 1,
      tid: 1,
      comm: 'sh',
      oldMm: null,
      filename: '/bin/true',
      interp: '/bin/true',
    });
    expect(one([EB(1, 1, '0xa', 'sh', '/x.sh'), P(1, 'interp', '/bin/sh')])).toMatchObject({
      oldMm: '0xa',
      filename: '/x.sh',
      interp: '/bin/sh',
    });
  });

  it('exec_begin: a 15-byte comm, one with spaces or high bytes, an empty filename and one with spaces', () => {
    const e = one([EB(1, 0, '0x0', 'fifteen-bytes!!', ' a b ')]);
    expect(e).toMatchObject({ comm: 'fifteen-bytes!!', filename: ' a b ' });
    const h = one([EB(1, 0, '0x0', HOSTILE, '')]);
    if (h.kind !== 'exec_begin') throw new Error(`expected exec_begin, got ${h.kind}`);
    expect(encodeKernelString(h.comm)).toEqual(Buffer.from(HOSTILE, 'latin1'));
    expect(h).toMatchObject({ filename: '' });
    expect(one([EB(1, 0, '0x0', '', '/x')])).toMatchObject({ comm: '', filename: '/x' });
    expect(one([EB(1, 0, '0x0', 'eightchr', '/x')])).toMatchObject({ comm: 'eightchr' });
    expect(one([EB(1, 0, '0x0', 'nine char', '/x')])).toMatchObject({ comm: 'nine char' });
  });

  it('exec_begin: a comm word that is not hex is a parse issue, not an event', () => {
    const out = run([rec('H exec_begin 0 1 10 1 1 0 0x0 sh 0x0 /bin/true')]);
    expect(events(out)).toEqual([]);
    expect(issues(out)[0]!.cause).toMatch(/exec_begin\.comm: "sh" is not a 0x-hex word/);
  });

  it("fork of a thread and of a process; a child mm on the record becomes the child's mm_attach, right after", () => {
    const out = run([
      H('fork', 1, 0, `10 12 4001536 0xffff1 0xffff1 1 0xf2 ${MKDEV_254_0} 5 0 255`, 'a', { pid: 10, ts: 7 }),
      H('fork', 2, 0, `13 13 18874368 0xffff1 0xffff9 10 0xf2 ${MKDEV_254_0} 5 0 255`, 'a', { pid: 10, ts: 8 }),
    ]);
    expect(issues(out)).toEqual([]);
    expect(events(out)).toEqual([
      expect.objectContaining({ kind: 'fork', childPid: 10, childTid: 12, thread: true, sharesMm: true, parentMm: '0xffff1' }),
      expect.objectContaining({ kind: 'mm_attach', ts: 7, pid: 10, tid: 12, comm: 'a', ppid: 1, mm: '0xffff1', exe: expect.objectContaining({ ino: 5 }) }),
      expect.objectContaining({ kind: 'fork', childPid: 13, thread: false, sharesMm: false }),
      expect.objectContaining({ kind: 'mm_attach', ts: 8, pid: 13, tid: 13, ppid: 10, mm: '0xffff9' }),
    ]);
  });

  it('a fork record without the child mm (not found, or a pid filter) gives the fork alone: the child prints its mm_attach', () => {
    const out = run([H('fork', 1, 0, '13 13 18874368 0xffff1 0x0 10 0x0 0 0 0 255', 'a', { pid: 10 })]);
    expect(issues(out)).toEqual([]);
    expect(events(out)).toMatchObject([{ kind: 'fork', childPid: 13 }]);
  });

  it('a path goes out once per identity: later references resolve from the dictionary', () => {
    const out = run([
      H('exec', 1, 3, `1 0 0xa 1 2 0xf1 ${MKDEV_254_0} 5 9 2 61267 0 0 1`),
      P(1, 'filename', 'x'),
      P(1, 'exe.c0', 'a'),
      P(1, 'exe.c1', 'bin'),
      H('mm_attach', 2, 0, `10 0xb 0xf2 ${MKDEV_254_0} 5 9 255`),
      H('mm_exit', 3, 0, '0xb 0x0 0 0 0 255'),
      H('exit', 4, 0, '1 1792'),
    ]);
    expect(issues(out)).toEqual([]);
    expect(events(out)).toMatchObject([
      { kind: 'exec', exe: { file: '0xf1', path: '/bin/a', name: 'a' } },
      { kind: 'mm_attach', ppid: 10, mm: '0xb', exe: { file: '0xf2', dev: 65024, ino: 5, name: 'a', path: '/bin/a' } },
      { kind: 'mm_exit', mm: '0xb', exe: null },
      { kind: 'exit', groupDead: true, exitCode: 1792 },
    ]);
  });

  it('a path id whose print was lost resolves to no path and asks for every path again; id 0 does not ask', () => {
    const unresolved: number[] = [];
    const d = new ProbeDecoder({ onUnresolvedFile: () => unresolved.push(1) });
    const out = [
      ...d.push(H('exec', 1, 2, `1 0 0xa 1 2 0xf1 ${MKDEV_254_0} 5 9 1 61267 0 0 1`), 1),
      ...d.push(P(1, 'filename', 'x'), 2),
      ...d.push(P(1, 'exe.c0', 'old'), 3),
      ...d.push(H('mm_attach', 2, 0, `10 0xb 0xf2 ${MKDEV_254_0} 5 10 255`), 4),
      ...d.push(H('mm_attach', 3, 0, `10 0xb 0xf2 ${MKDEV_254_0} 6 0 255`), 5),
    ];
    // Decided after the CPU merge (resolveLate), not when decoded.
    expect(unresolved).toHaveLength(0);
    const resolved = events(out).map((e) => d.resolveLate(e));
    expect(resolved[1]).toMatchObject({ kind: 'mm_attach', exe: { ino: 5, name: '', path: null } });
    expect(resolved[2]).toMatchObject({ kind: 'mm_attach', exe: { ino: 6, name: '', path: null } });
    expect(unresolved).toHaveLength(1);
    expect(d.counts.unresolvedFiles).toBe(1);
    // Asked once: a second look at the same event finds nothing pending.
    d.resolveLate(resolved[1]!);
    expect(d.counts.unresolvedFiles).toBe(1);
  });

  it('a path printed on another CPU whose ring is read later: resolved after the merge, nothing asked', () => {
    const unresolved: number[] = [];
    const d = new ProbeDecoder({ onUnresolvedFile: () => unresolved.push(1) });
    // CPU 1 refers to path id 9 (ts 21) before CPU 0's walk that prints it (ts 20) is decoded.
    const early = events(d.push(H('mm_attach', 1, 0, `10 0xb 0xf2 ${MKDEV_254_0} 5 9 255`, 'a', { cpu: 1, ts: 21 }), 1));
    expect(early[0]).toMatchObject({ exe: { ino: 5, path: null } });
    const later = events([
      ...d.push(H('exec', 1, 3, `1 0 0xa 1 2 0xf1 ${MKDEV_254_0} 5 9 2 61267 0 0 1`, 'a', { ts: 20 }), 2),
      ...d.push(P(1, 'filename', 'x'), 3),
      ...d.push(P(1, 'exe.c0', 'a'), 4),
      ...d.push(P(1, 'exe.c1', 'bin'), 5),
    ]);
    expect(later[0]).toMatchObject({ kind: 'exec', exe: { path: '/bin/a' } });
    // The merge releases them in time order: the exec, then the mm_attach, now resolvable.
    expect(d.resolveLate(later[0]!)).toMatchObject({ exe: { path: '/bin/a' } });
    expect(d.resolveLate(early[0]!)).toMatchObject({ kind: 'mm_attach', exe: { file: '0xf2', dev: 65024, ino: 5, name: 'a', path: '/bin/a' } });
    expect(unresolved).toHaveLength(0);
    expect(d.counts.unresolvedFiles).toBe(0);
  });

  it('the same inode under two paths (a hard link) keeps both, by path id', () => {
    const out = run([
      H('exec', 1, 2, `1 0 0xa 1 2 0xf1 ${MKDEV_254_0} 5 1 1 61267 0 0 1`),
      P(1, 'filename', 'x'),
      P(1, 'exe.c0', 'first'),
      H('exec', 2, 2, `1 0 0xa 1 2 0xf2 ${MKDEV_254_0} 5 2 1 61267 0 0 1`),
      P(2, 'filename', 'x'),
      P(2, 'exe.c0', 'second'),
      H('mm_attach', 3, 0, `10 0xb 0xf2 ${MKDEV_254_0} 5 1 255`),
      H('mm_attach', 4, 0, `10 0xb 0xf2 ${MKDEV_254_0} 5 2 255`),
    ]);
    expect(events(out).map((e) => ('exe' in e ? e.exe?.path : null))).toEqual(['/first', '/second', '/first', '/second']);
  });

  it('learnPath (from /proc) covers identities the probes never walked', () => {
    const d = new ProbeDecoder();
    d.learnPath(65024, 5, '/usr/bin/dash');
    const out = d.push(H('mm_attach', 1, 0, `10 0xb 0xf2 ${MKDEV_254_0} 5 9 255`), 1);
    expect(events(out)[0]).toMatchObject({ exe: { name: 'dash', path: '/usr/bin/dash' } });
  });

  it('mmap, munmap, mremap, mprotect with negative returns', () => {
    const out = run([
      H('mmap', 1, 1, `0xa 140000 4096 5 2 3 0 0xf2 ${MKDEV_254_0} 9 1 1`),
      P(1, 'file.c0', 'libc.so.6'),
      H('munmap', 2, 0, '0xa -1 16384 -22'),
      H('mremap', 3, 0, '0xa 4096 8192 16384 1 -14'),
      H('mprotect', 4, 0, '0xa 4096 4096 1 0'),
    ]);
    expect(issues(out)).toEqual([]);
    expect(events(out)).toMatchObject([
      { kind: 'mmap', addr: 140000, len: 4096, prot: 5, flags: 2, fd: 3, pgoff: 0, file: { name: 'libc.so.6', path: '/libc.so.6' } },
      { kind: 'munmap', addr: -1, len: 16384, ret: -22 },
      { kind: 'mremap', oldAddr: 4096, oldLen: 8192, newLen: 16384, flags: 1, ret: -14 },
      { kind: 'mprotect', prot: 1, ret: 0 },
    ]);
  });

  it('prctl_mm with before and after files', () => {
    const e = one([
      H('prctl_mm', 1, 3, `0xa 14 3 0 0xf1 ${MKDEV_254_0} 5 1 1 0xf2 ${MKDEV_254_0} 6 1 2`),
      P(1, 'before.c0', 'old'),
      P(1, 'after.c0', 'new'),
      P(1, 'after.c1', 'bin'),
    ]);
    expect(e).toMatchObject({ kind: 'prctl_mm', subOption: 14, exeFd: 3, ret: 0, exeBefore: { ino: 5, path: '/old' }, exeAfter: { ino: 6, path: '/bin/new' } });
  });

  it('exe_read: readlink with answer, relative readlinkat, openat, execve', () => {
    const out = run([
      H('exe_read', 1, 2, '0 8', 'a', { pid: 50 }),
      P(1, 'path', '/proc/self/exe'),
      P(1, 'answer', '/bin/x\n'),
      H('exe_read', 2, 2, '1 -2', 'a', { pid: 50 }),
      P(2, 'path', 'exe'),
      P(2, 'dir', '77'),
      H('exe_read', 3, 1, '2 4', 'a', { pid: 50 }),
      P(3, 'path', '/proc/123/exe'),
      H('exe_read', 4, 1, '3 0', 'a', { pid: 50 }),
      P(4, 'path', '/proc/thread-self/exe'),
    ]);
    expect(issues(out)).toEqual([]);
    expect(events(out)).toMatchObject([
      { kind: 'exe_read', syscall: 'readlink', path: '/proc/self/exe', targetPid: 50, dirName: null, ret: 8, answer: '/bin/x\n' },
      { syscall: 'readlinkat', dirName: '77', targetPid: 77, answer: null, ret: -2 },
      { syscall: 'openat', targetPid: 123 },
      { syscall: 'execve', targetPid: 50 },
    ]);
  });

  it('exe_read: a readlink answer is cut to ret bytes (readlink does not NUL-terminate)', () => {
    expect(one([H('exe_read', 1, 2, '0 4', 'a', { pid: 50 }), P(1, 'path', '/proc/self/exe'), P(1, 'answer', '/binJUNK')])).toMatchObject({
      ret: 4,
      answer: '/bin',
    });
  });

  it('exe_read sys 4: proc_exe_link with the target from dir and the answer from its path walk', () => {
    // Parts in any order; the answer is rebuilt leaf-first like a file ref's path.
    expect(
      one([
        H('exe_read', 1, 5, '4 0', 'a', { ts: 21, pid: 50, tid: 51 }),
        P(1, 'answer.c1', 'bin'),
        P(1, 'path', 'exe'),
        P(1, 'dir', '123'),
        P(1, 'answer.c0', 'x y'),
        P(1, 'answer.c2', 'usr'),
      ]),
    ).toEqual({
      kind: 'exe_read',
      ts: 21,
      pid: 50,
      tid: 51,
      comm: 'a',
      syscall: 'proc_exe_link',
      path: 'exe',
      dirName: '123',
      targetPid: 123,
      ret: 0,
      answer: '/usr/bin/x y',
    });
    // Failed resolution (-ENOENT) or a walk cut at its bound: no answer parts.
    expect(one([H('exe_read', 1, 2, '4 -2'), P(1, 'path', 'exe'), P(1, 'dir', '9')])).toMatchObject({
      syscall: 'proc_exe_link',
      targetPid: 9,
      ret: -2,
      answer: null,
    });
    // A lost component leaves no half path.
    const out = run([H('exe_read', 1, 4, '4 0'), P(1, 'path', 'exe'), P(1, 'dir', '9'), P(1, 'answer.c1', 'bin')]);
    expect(events(out)).toMatchObject([{ syscall: 'proc_exe_link', answer: null }]);
    expect(issues(out).map((i) => i.cause)).toEqual([expect.stringContaining('3 of 4 parts arrived')]);
    // Codes past proc_exe_link are still refused.
    expect(issues(run([H('exe_read', 1, 0, '5 0')])).map((i) => i.cause)).toEqual(['exe_read: unknown syscall code 5']);
  });

  it('S ready becomes attached; lost_events is only a cross-check count, not a gap', () => {
    const d = new ProbeDecoder();
    const out = [
      '{"type": "attached_probes", "data": {"probes": 31}}',
      rec('S ready'),
      H('exit', 1, 0, '0 0'),
      '{"type": "lost_events", "data": {"events": 7}}',
      '',
    ].flatMap((l, i) => d.push(l, i + 1));
    expect(out[0]).toEqual({ type: 'attached', probes: 31 });
    expect(events(out).map((e) => e.kind)).toEqual(['exit']);
    expect(d.counts.bpftraceLostRecords).toBe(7);
    expect(issues(out)).toEqual([]);
  });

  it('joins parts by (cpu, seq) when two CPUs interleave, and tags each event with its CPU', () => {
    const out = run([EB(1, 1, '0x0', 'one', '/1', { cpu: 0 }), EB(1, 1, '0x0', 'two', '/2', { cpu: 1 }), P(1, 'interp', '/i2', 1), P(1, 'interp', '/i1', 0)]);
    expect(out.flatMap((x) => (x.type === 'event' && x.event.kind === 'exec_begin' ? [[x.cpu, x.event.comm, x.event.interp]] : []))).toEqual([
      [1, 'two', '/i2'],
      [0, 'one', '/i1'],
    ]);
  });
});

describe('ProbeDecoder: loss is counted exactly from the per-CPU sequence', () => {
  it("a jump in a CPU's seq is a gap of exactly that many events, at the last ts seen on that CPU", () => {
    const d = new ProbeDecoder();
    const out = [H('exit', 1, 0, '0 0', 'a', { ts: 100 }), H('exit', 5, 0, '0 0', 'a', { ts: 200 }), H('exit', 1, 0, '0 0', 'a', { cpu: 1, ts: 150 })].flatMap(
      (l, i) => d.push(l, i + 1),
    );
    expect(events(out).filter((e) => e.kind === 'gap')).toEqual([{ kind: 'gap', source: 'decoder', lost: 3, ts: 100 }]);
    expect(d.counts.lostEvents).toBe(3);
  });

  it('events lost at the very start of a CPU count too', () => {
    const d = new ProbeDecoder();
    d.push(H('exit', 3, 0, '0 0'), 1);
    expect(d.counts.lostEvents).toBe(2);
  });

  it("the drain marker carries the CPU's last seq: a lost tail is counted", () => {
    const d = new ProbeDecoder();
    const out = [H('exit', 1, 0, '0 0'), rec('S drained 1 0 4'), rec('S drained 1 1 0')].flatMap((l, i) => d.push(l, i + 1));
    expect(d.counts.lostEvents).toBe(3);
    expect(out.filter((o) => o.type === 'drained')).toEqual([
      { type: 'drained', request: 1, cpu: 0 },
      { type: 'drained', request: 1, cpu: 1 },
    ]);
  });

  it('parts of a lost head are orphans, counted apart and never joined to another head', () => {
    const d = new ProbeDecoder();
    const out = [
      EB(1, 1, '0x0', 'one', '/1.sh'),
      // seq 2's head was lost; its part arrives first
      P(2, 'interp', '/lost'),
      EB(3, 1, '0x0', 'three', '/3.sh'),
      P(3, 'interp', '/3'),
    ].flatMap((l, i) => d.push(l, i + 1));
    const ev = events(out);
    expect(ev.filter((e) => e.kind === 'exec_begin').map((e) => e.kind === 'exec_begin' && [e.comm, e.interp])).toEqual([
      ['one', '/1.sh'],
      ['three', '/3'],
    ]);
    expect(d.counts).toMatchObject({ lostEvents: 1, orphanParts: 1, incompleteEvents: 1 });
    // The only issue: seq 1 went out without its part.
    expect(issues(out).map((i) => i.cause)).toEqual([expect.stringContaining('1 of 2 parts arrived')]);
  });

  it('S tick becomes a watermark for its CPU', () => {
    expect(run([rec('S tick 1 12345')])).toEqual([{ type: 'tick', cpu: 1, ts: 12345 }]);
  });
});

describe('ProbeDecoder: malformed input never throws', () => {
  it.each([
    ['{"type": "printf", "data": "H exec 1', /not JSON/],
    [rec('H nosuch 0 1 1 1 1 0 a'), /unknown event kind "nosuch"/],
    [rec('H exit 0 1 1 1 1 0 1'), /too short/],
    [rec('H exit 0 1 x 1 1 0 0 0 a'), /ts: "x" is not a decimal number/],
    [rec('H exit 0 1 99999999999999999999 1 1 0 0 0 a'), /too large/],
    [rec('H exit 9999 1 1 1 1 0 0 0 a'), /cpu 9999 out of range/],
    [rec('H mm_exit 0 1 1 1 1 0 0xzz 0x0 0 0 0 0 a'), /not a 0x-hex pointer/],
    [rec('H mm_exit 0 1 1 1 1 0 0x1 0x1 0 0 0 999 a'), /out of range/],
    [rec('H exit 0 1 1 1 1 -1 0 0 a'), /nparts -1 out of range/],
    [rec('P 0 0 comm orphan'), /has no waiting head/],
    [rec('P 0 1 bad-label x'), /bad part label/],
    [rec('Z what'), /neither a head/],
    [rec('S what'), /unknown status record/],
    ['{"type": "printf", "data": "H exit 0 1 1 1 1 0 0 0 a"}', /newline/],
    ['{"type": "map", "data": {}}', /unexpected bpftrace record type "map"/],
  ])('%s', (line, cause) => {
    const out = run([line]);
    const iss = issues(out);
    expect(iss).toHaveLength(1);
    expect(iss[0]).toMatchObject({ source: 'bpftrace', line: 1, raw: line });
    expect(iss[0]!.cause).toMatch(cause);
    expect(events(out)).toEqual([]);
  });

  it('a head whose seq repeats is refused', () => {
    const out = run([H('exit', 1, 0, '0 0'), H('exit', 1, 0, '0 0')]);
    expect(issues(out).map((i) => i.cause)).toEqual([expect.stringMatching(/repeats or goes back/)]);
    expect(events(out)).toHaveLength(1);
  });

  it('emits a head whose parts never came, with an issue, on flush', () => {
    const out = run([H('exec', 1, 3, `1 0 0xa 1 2 0xf ${MKDEV_254_0} 3 0 2 61267 0 0 1`), P(1, 'exe.c0', 'x')]);
    expect(issues(out)[0]!.cause).toMatch(/1 of 3 parts arrived/);
    expect(events(out)[0]).toMatchObject({ kind: 'exec', comm: 'a', filename: '', exe: { name: 'x', path: null } });
  });

  it('a new head on the same CPU completes the previous one at once (its parts would have come first)', () => {
    const out = run([EB(1, 1, '0x0', 'a', '/x.sh'), H('exit', 2, 0, '0 0')], false);
    expect(events(out).map((e) => e.kind)).toEqual(['exec_begin', 'exit']);
    expect(issues(out)).toHaveLength(1);
  });

  it('marks a truncated walk and keeps the tail it knows (no leading "/": it may not reach the root)', () => {
    const e = one([H('mmap', 1, 2, `0xa 1 4096 5 2 3 0 0xf ${MKDEV_254_0} 3 0 -2`), P(1, 'file.c0', 'deep'), P(1, 'file.c1', 'dir')]);
    expect(e).toMatchObject({ file: { name: 'deep', path: 'dir/deep', pathTruncated: true } });
  });

  it('two files with the same truncated tail stay two files (identity is dev and ino, never the path)', () => {
    const d = new ProbeDecoder();
    const out = [
      ...d.push(H('mmap', 1, 1, `0xa 1 4096 5 2 3 0 0xf1 ${MKDEV_254_0} 3 0 -1`), 1),
      ...d.push(P(1, 'file.c0', 'same'), 2),
      ...d.push(H('mmap', 2, 1, `0xa 1 4096 5 2 3 0 0xf2 ${MKDEV_254_0} 4 0 -1`), 3),
      ...d.push(P(2, 'file.c0', 'same'), 4),
    ];
    const files = events(out).map((e) => (e.kind === 'mmap' ? e.file : null));
    expect(files.map((f) => [f?.ino, f?.path, f?.pathTruncated])).toEqual([
      [3, 'same', true],
      [4, 'same', true],
    ]);
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

describe('ProbeDecoder: bpftrace 0.23 helper errors', () => {
  it('reports each as an issue with the helper, its return code, the program line and the message', () => {
    const line =
      '{"type": "helper_error", "msg": "Map full; can\'t update element. Try increasing max_map_keys config", "helper": "map_update_elem", "retcode": -7, "line": 141, "col": 7}';
    expect(issues(run([line])).map((i) => i.cause)).toEqual([
      "bpftrace: helper map_update_elem failed (-7) at program line 141: Map full; can't update element. Try increasing max_map_keys config",
    ]);
  });
});
