// Live: real bpftrace, real processes, the real `exetrace record` CLI. Needs root.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/trace/events.js';
import { BpftraceRunner, type LineDecoder } from '../../src/trace/bpftrace-runner.js';
import { SCHEMA_VERSION } from '../../src/trace/trace-format.js';
import { readTrace, type TraceRecord } from '../../src/trace/trace-reader.js';
import { runCliAsNobody } from '../support/cli.js';
import { skipLive } from '../support/live-gate.js';
import { startRecord } from '../support/record.js';

// A workload that does each thing once and reports its ids: readlink of /proc/self/exe, a
// thread, a fork whose child execs /bin/true, and an explicit munmap.
const WORKLOAD_C = String.raw`
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
extern char __executable_start;
static void *thread_main(void *arg) { printf("thread %ld\n", (long)syscall(SYS_gettid)); fflush(stdout); usleep(20000); return arg; }
int main(int argc, char **argv) {
  /* The path comes from argv, as with readlink(1): a literal in a fresh process's unfaulted
     .rodata cannot be read by the sys_enter probe (BPF cannot fault pages in). */
  const char *link = argc > 1 ? argv[1] : "/proc/self/exe";
  char buf[4096]; ssize_t n = readlink(link, buf, sizeof buf - 1);
  if (n < 0) return 2; buf[n] = 0;
  printf("pid %d\nexe %s\n", getpid(), buf); fflush(stdout);
  usleep(500000); /* let the exe_read snapshot find us */
  pthread_t t; pthread_create(&t, NULL, thread_main, NULL); pthread_join(t, NULL);
  /* The probes keep only munmaps near the executable's image (the JIT noise filter in
     tracepoint.bt), so map and unmap 64 KiB just below our own text. */
  void *hint = (void *)(((uintptr_t)&__executable_start & ~(uintptr_t)0xfffff) - 0x4000000);
  void *p = mmap(hint, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) return 3;
  printf("munmap %lu\n", (unsigned long)p); fflush(stdout);
  munmap(p, 65536);
  pid_t c = fork();
  if (c == 0) { usleep(100000); execl("/bin/true", "true", (char *)NULL); _exit(127); }
  printf("child %d\n", c); fflush(stdout);
  int st; waitpid(c, &st, 0);
  /* Unmap our own ELF header page (unused after start-up): a range of the executable's
     mappings changes, so the recorder must take a vma_change snapshot. */
  printf("header %lu\n", (unsigned long)&__executable_start); fflush(stdout);
  munmap(&__executable_start, 4096);
  usleep(600000); /* events reach the recorder with a delay: let the snapshot find us */
  return 0;
}
`;

const dir = mkdtempSync(join(tmpdir(), 'exetrace-live-record-'));
const workload = join(dir, 'wl');

async function records(path: string): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of readTrace(path)) out.push(r);
  return out;
}
const eventsOf = (recs: TraceRecord[]): TraceEvent[] => recs.flatMap((r) => (r.type === 'event' ? [r.event] : []));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function runWorkload(): Record<string, string> {
  const out = execFileSync(workload, ['/proc/self/exe'], { encoding: 'utf8' });
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]),
  );
}

/** The pid of bpftrace started by the process `parent` (scan /proc for its children). */
function bpftraceChildOf(parent: number): number | null {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === parent && readFileSync(`/proc/${name}/comm`, 'utf8').trim() === 'bpftrace') return Number(name);
    } catch {
      // raced with an exit
    }
  }
  return null;
}

describe.skipIf(skipLive())('exetrace record (live)', () => {
  beforeAll(() => {
    writeFileSync(join(dir, 'wl.c'), WORKLOAD_C);
    execFileSync('gcc', ['-O1', '-pthread', '-o', workload, join(dir, 'wl.c')]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('records exec, fork, thread, munmap and exe reads with consistent pids, mms and inodes', async () => {
    const out = join(dir, 'main.trace');
    const rec = startRecord({ out });
    const probes = await rec.ready;
    expect(probes).toBeGreaterThan(5);
    const ids = runWorkload();
    await sleep(1000);
    const end = await rec.stop();
    expect(end.code, end.stderr).toBe(0);
    expect(end.stdout).toMatch(/^events: \d+/m);
    expect(statSync(out).mode & 0o777).toBe(0o600);

    const recs = await records(out);
    const errors = recs.filter((r) => r.type === 'error');
    expect(errors, JSON.stringify(errors.slice(0, 3))).toHaveLength(0);
    const header = recs[0];
    expect(header?.type).toBe('header');
    if (header?.type !== 'header') return;
    expect(header.header).toMatchObject({ schemaVersion: SCHEMA_VERSION, flavor: 'tracepoint', filters: { pid: null, comm: null } });
    expect(header.header.bpftraceVersion).toMatch(/^v0\./);
    expect(header.header.clockRef.monotonicNs).toBeGreaterThan(0);
    const trailer = recs.at(-1);
    expect(trailer?.type === 'trailer' && trailer.trailer.reason).toBe('signal');

    const ev = eventsOf(recs);
    if (trailer?.type === 'trailer') expect(trailer.trailer.events).toBe(ev.length);
    // Startup snapshots come right after the header, and include this test process.
    expect(recs[1]?.type === 'event' && recs[1].event.kind === 'proc_snapshot' && recs[1].event.reason).toBe('startup');
    expect(ev.some((e) => e.kind === 'proc_snapshot' && e.reason === 'startup' && e.pid === process.pid)).toBe(true);
    // Sorted by ts apart from what the reorder window reports as late.
    const lateMatch = /late events \(beyond the reorder window\): (\d+)/.exec(end.stdout);
    let inversions = 0;
    for (let i = 1; i < ev.length; i++) if (ev[i]!.ts < ev[i - 1]!.ts) inversions++;
    expect(inversions).toBeLessThanOrEqual(Number(lateMatch?.[1] ?? 0));

    const pid = Number(ids.pid);
    const child = Number(ids.child);
    const tid = Number(ids.thread);
    const wlStat = statSync(workload);
    const trueStat = statSync('/bin/true');

    const exec = ev.find((e) => e.kind === 'exec' && e.pid === pid);
    expect(exec, 'exec of the workload').toBeDefined();
    if (exec?.kind !== 'exec') return;
    expect(exec.exe).not.toBeNull();
    expect([exec.exe!.dev, exec.exe!.ino]).toEqual([wlStat.dev, wlStat.ino]);
    expect(exec.exe!.name).toBe('wl');
    expect(exec.startCode).toBeLessThan(exec.endCode);

    // Thread: a fork event flagged as a thread sharing the mm.
    const thread = ev.find((e) => e.kind === 'fork' && e.pid === pid && e.childTid === tid);
    expect(thread).toMatchObject({ thread: true, sharesMm: true, parentMm: exec.mm, childPid: pid });
    // Fork: a separate mm, inherited exe_file.
    const fork = ev.find((e) => e.kind === 'fork' && e.pid === pid && e.childPid === child);
    expect(fork).toMatchObject({ thread: false, sharesMm: false, parentMm: exec.mm });
    const attach = ev.find((e) => e.kind === 'mm_attach' && e.pid === child);
    expect(attach, 'child mm_attach').toBeDefined();
    if (attach?.kind !== 'mm_attach') return;
    expect(attach.mm).not.toBe(exec.mm);
    expect([attach.exe?.dev, attach.exe?.ino]).toEqual([wlStat.dev, wlStat.ino]);
    // The child execs /bin/true: the old mm is the forked one, and it is torn down.
    const childBegin = ev.find((e) => e.kind === 'exec_begin' && e.pid === child);
    expect(childBegin).toMatchObject({ oldMm: attach.mm });
    const childExec = ev.find((e) => e.kind === 'exec' && e.pid === child);
    if (childExec?.kind !== 'exec') throw new Error('no exec of the child');
    expect([childExec.exe?.dev, childExec.exe?.ino]).toEqual([trueStat.dev, trueStat.ino]);
    expect(ev.some((e) => e.kind === 'mm_exit' && e.mm === attach.mm && e.ts <= childExec.ts)).toBe(true);
    expect(ev.some((e) => e.kind === 'mm_exit' && e.mm === childExec.mm && e.pid === child)).toBe(true);
    // The workload's own mm ends at its exit, with exe_file still set.
    const wlExit = ev.find((e) => e.kind === 'mm_exit' && e.mm === exec.mm && e.pid === pid);
    expect(wlExit?.kind === 'mm_exit' && [wlExit.exe?.dev, wlExit.exe?.ino]).toEqual([wlStat.dev, wlStat.ino]);
    expect(ev.some((e) => e.kind === 'exit' && e.pid === pid && e.groupDead)).toBe(true);

    // munmap of the anonymous region it announced.
    expect(ev.some((e) => e.kind === 'munmap' && e.pid === pid && e.addr === Number(ids.munmap) && e.len === 65536 && e.mm === exec.mm)).toBe(true);
    // readlink of /proc/self/exe, with the kernel's answer.
    const read = ev.find((e) => e.kind === 'exe_read' && e.pid === pid);
    expect(read).toMatchObject({ syscall: 'readlink', path: '/proc/self/exe', targetPid: pid, answer: ids.exe });
    // Snapshots taken during the run: at the exe read and after the exec, with the exe's identity.
    const snaps = ev.filter((e) => e.kind === 'proc_snapshot' && e.pid === pid && e.reason !== 'startup');
    expect(snaps.map((s) => (s.kind === 'proc_snapshot' ? s.reason : '')).sort()).toEqual(expect.arrayContaining(['exe_read', 'exec']));
    // The header page unmapped at the end: a vma_change snapshot no longer lists it.
    const headerPage = Number(ids.header);
    const change = snaps.find((s) => s.kind === 'proc_snapshot' && s.reason === 'vma_change');
    expect(change, `vma_change snapshot; summary:\n${end.stdout}`).toBeDefined();
    if (change?.kind === 'proc_snapshot') expect(change.maps.some((m) => m.start <= headerPage && headerPage < m.end)).toBe(false);
    const execSnap = snaps.find((s) => s.kind === 'proc_snapshot' && s.reason === 'exec');
    if (execSnap?.kind === 'proc_snapshot') expect(execSnap.maps.some((m) => m.start <= headerPage && headerPage < m.end)).toBe(true);
    for (const s of snaps) {
      if (s.kind !== 'proc_snapshot') continue;
      expect([s.exeDev, s.exeIno, s.exeLink]).toEqual([wlStat.dev, wlStat.ino, ids.exe]);
      expect(s.maps.some((m) => m.ino === wlStat.ino && m.dev === wlStat.dev && m.perms[2] === 'x')).toBe(true);
    }
  }, 120_000);

  it('ends by itself after --duration with a complete trace', async () => {
    const out = join(dir, 'duration.trace');
    const rec = startRecord({ out, args: ['--duration', '1', '--quiet'] });
    await rec.ready;
    const end = await rec.exited;
    expect(end.code, end.stderr).toBe(0);
    expect(end.stdout).toBe('');
    const last = (await records(out)).at(-1);
    expect(last?.type === 'trailer' && last.trailer.reason).toBe('duration');
  }, 60_000);

  it('SIGTERM ends the recording cleanly like Ctrl-C', async () => {
    const out = join(dir, 'sigterm.trace');
    const rec = startRecord({ out, args: ['--quiet'] });
    await rec.ready;
    process.kill(rec.pid, 'SIGTERM');
    const end = await rec.exited;
    expect(end.code, end.stderr).toBe(0);
    const last = (await records(out)).at(-1);
    expect(last?.type === 'trailer' && last.trailer).toMatchObject({ reason: 'signal', error: null });
  }, 60_000);

  it('-p keeps only that process: its snapshot and its events', async () => {
    const loop = spawn('bash', ['-c', 'while :; do /bin/true; sleep 0.1; done'], { stdio: 'ignore' });
    try {
      const out = join(dir, 'pid.trace');
      const rec = startRecord({ out, args: ['-p', String(loop.pid), '--duration', '1.5'] });
      await rec.ready;
      const end = await rec.exited;
      expect(end.code, end.stderr).toBe(0);
      const recs = await records(out);
      const first = recs[0];
      expect(first?.type === 'header' && first.header.filters.pid).toBe(loop.pid);
      const ev = eventsOf(recs);
      expect(ev.filter((e) => e.kind === 'proc_snapshot' && e.reason === 'startup').map((e) => (e.kind === 'gap' ? 0 : e.pid))).toEqual([loop.pid]);
      const forks = ev.filter((e) => e.kind === 'fork');
      expect(forks.length).toBeGreaterThan(3);
      expect(ev.filter((e) => e.kind !== 'gap' && e.pid !== loop.pid)).toEqual([]);
    } finally {
      loop.kill('SIGKILL');
    }
  }, 60_000);

  it('keeps the events recorded before bpftrace is killed, and exits with an error', async () => {
    const out = join(dir, 'killed.trace');
    const rec = startRecord({ out });
    await rec.ready;
    const ids = runWorkload();
    await sleep(500); // past the reorder window
    const bpftrace = bpftraceChildOf(rec.pid);
    expect(bpftrace).not.toBeNull();
    process.kill(bpftrace!, 'SIGKILL');
    const end = await rec.exited;
    expect(end.code).toBe(1);
    expect(end.stderr).toMatch(/bpftrace exited unexpectedly during the run \(signal SIGKILL\)/);
    const recs = await records(out);
    expect(recs.filter((r) => r.type === 'error')).toHaveLength(0);
    const last = recs.at(-1);
    expect(last?.type === 'trailer' && last.trailer).toMatchObject({ reason: 'bpftrace-exited' });
    expect(eventsOf(recs).some((e) => e.kind === 'exec' && e.pid === Number(ids.pid))).toBe(true);
  }, 60_000);

  it('if exetrace itself is killed -9, bpftrace does not outlive it, and the trace stays readable', async () => {
    const out = join(dir, 'self-killed.trace');
    const rec = startRecord({ out });
    await rec.ready;
    const bpftrace = bpftraceChildOf(rec.pid);
    expect(bpftrace).not.toBeNull();
    await sleep(700); // some events written
    process.kill(rec.pid, 'SIGKILL');
    await rec.exited;
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      await sleep(100);
      alive = existsSync(`/proc/${bpftrace}`);
    }
    expect(alive, 'bpftrace still running 10 s after exetrace was killed').toBe(false);
    const recs = await records(out);
    expect(recs[0]?.type).toBe('header');
    expect(recs.at(-1)).toMatchObject({ type: 'error', cause: expect.stringMatching(/^truncated: no trailer after line \d+$/) });
  }, 60_000);

  it('a full disk ends the recording with a clear error and exit 1', async () => {
    const mnt = join(dir, 'tiny');
    execFileSync('mkdir', ['-p', mnt]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', mnt]);
    try {
      const out = join(mnt, 'full.trace');
      const rec = startRecord({ out, args: ['--duration', '20'] });
      // The startup snapshot alone is larger than 16 KiB: it fails before or right after attaching.
      await rec.ready.catch(() => 0);
      const end = await rec.exited;
      expect(end.code).toBe(1);
      expect(end.stderr).toMatch(/writing .*full\.trace failed: ENOSPC/);
      const recs = await records(out);
      expect(recs[0]?.type).toBe('header');
    } finally {
      execFileSync('umount', ['-l', mnt]);
    }
  }, 60_000);

  it('never lets -c reach the program text: an injection attempt is rejected or harmless', async () => {
    const marker = join(dir, 'pwned');
    const attempt = `x") } BEGIN { system("touch ${marker}"); } tracepoint:sched:sched_process_exit /comm == "`;
    const out = join(dir, 'inject.trace');
    const rec = startRecord({ out, args: ['-c', attempt, '--duration', '1'] });
    await rec.ready.catch(() => 0);
    const end = await rec.exited;
    expect(existsSync(marker)).toBe(false);
    if (end.code !== 0) expect(end.stderr).toMatch(/invalid -c\/--comm/);
  }, 60_000);

  it('a short comm full of bpftrace syntax is only data: it runs, matches nothing, and ends normally', async () => {
    const out = join(dir, 'inject-short.trace');
    const comm = '"){exit();}//$1'; // 15 bytes: a valid comm, hostile as program text
    const rec = startRecord({ out, args: ['-c', comm, '--duration', '1'] });
    await rec.ready;
    execFileSync('/bin/true');
    const end = await rec.exited;
    expect(end.code, end.stderr).toBe(0);
    const recs = await records(out);
    const first = recs[0];
    expect(first?.type === 'header' && first.header.filters.comm).toBe(comm);
    const last = recs.at(-1);
    expect(last?.type === 'trailer' && last.trailer.reason).toBe('duration');
    // Nothing on this host has that comm: no kernel events at all.
    expect(eventsOf(recs).filter((e) => e.kind !== 'proc_snapshot')).toEqual([]);
  }, 60_000);

  it('as a non-root user says it needs root and exits non-zero without creating the trace', async () => {
    const out = join('/tmp', `exetrace-nobody-${process.pid}.trace`);
    const r = await runCliAsNobody(['record', '--out', out, '--duration', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/must run as root/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});

// The runner alone, with real bpftrace: the decoder here only recognises attached_probes, so
// what is under test is the runner's handling of bpftrace's stderr, exit and stop.
const attachedOnly: LineDecoder = {
  push(line) {
    const m = /^\{"type": "attached_probes", "data": \{"probes": (\d+)\}\}$/.exec(line);
    return m ? [{ type: 'attached', probes: Number(m[1]) }] : [];
  },
  flush: () => [],
};

describe.skipIf(skipLive())('BpftraceRunner (live)', () => {
  it('names the probe that fails to attach (no kprobes on this kernel)', async () => {
    const r = new BpftraceRunner({
      args: ['-f', 'json', '-e', 'tracepoint:sched:sched_process_exit { } kprobe:mmput { }'],
      decoder: attachedOnly,
      onOutput: () => {},
    });
    expect(await r.attached).toBe(0);
    const res = await r.done;
    expect(res.error).toMatchObject({ kind: 'attach-failed', probe: 'kprobe:mmput' });
    expect(res.stderr.some((l) => /RLIMIT_MEMLOCK/.test(l))).toBe(false);
  }, 30_000);

  it('confirms the attach, then stops cleanly on stop() with no error', async () => {
    const r = new BpftraceRunner({ args: ['-f', 'json', '-e', 'tracepoint:sched:sched_process_exit { }'], decoder: attachedOnly, onOutput: () => {} });
    expect(await r.attached).toBe(1);
    const res = await r.stop(5000);
    expect(res).toMatchObject({ error: null, stoppedByUs: true, killed: false });
  }, 30_000);

  it('reports a missing bpftrace binary clearly', async () => {
    const r = new BpftraceRunner({
      bpftrace: join(dir, 'no-such-bpftrace'),
      args: ['-f', 'json', '-e', 'BEGIN { }'],
      decoder: attachedOnly,
      onOutput: () => {},
    });
    const res = await r.done;
    expect(res.error).toMatchObject({ kind: 'not-found', shortMessage: 'bpftrace not found; apt-get install bpftrace' });
  }, 30_000);
});
