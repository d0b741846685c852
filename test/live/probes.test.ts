// Runs the tracepoint probes with real bpftrace against real processes and checks the decoded
// events: exec identity against stat(2), hostile names byte for byte, mm agreement across
// fork/attach/teardown, munmap, readlink of /proc/self/exe, prctl(PR_SET_MM_MAP), and that an
// injection attempt through the comm filter is harmless.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipLive } from '../support/live-gate.js';
import { Btf, mountMntOffset, taskMemberOffset } from '../../src/kernel/btf.js';
import { buildProbeInvocation, validateCommFilter } from '../../src/trace/probe-program.js';
import { ProbeDecoder, type DecodeOutput } from '../../src/trace/decoder.js';
import { encodeKernelString } from '../../src/trace/kernel-string.js';
import { ExecFilenameJoin } from '../../src/trace/exec-filename-join.js';
import type { TraceEvent } from '../../src/trace/events.js';

// Quote, backslash, newline, space, 0xff, ESC: every hazard for the line protocol.
const HOSTILE_NAME = Buffer.from([0x71, 0x22, 0x5c, 0x0a, 0x20, 0xff, 0x1b, 0x78]);

// `prog launch DIR` hard-links itself under the hostile name and execs that; the hostile
// process then does the workload. C builds the name so no JS string has to hold the 0xff byte.
const WORKLOAD_C = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/prctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>
static const char NAME[] = { 0x71, 0x22, 0x5c, 0x0a, 0x20, (char)0xff, 0x1b, 0x78, 0 };
int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "launch") == 0) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", argv[2], NAME);
    if (link("/proc/self/exe", path) != 0 && linkat(AT_FDCWD, "/proc/self/exe", AT_FDCWD, path, AT_SYMLINK_FOLLOW) != 0) { perror("link"); return 2; }
    char *args[] = { path, NULL };
    execv(path, args);
    perror("execv");
    return 2;
  }
  char buf[4096];
  if (readlink("/proc/self/exe", buf, sizeof buf) <= 0) return 3;
  /* The probes report munmap only near the executable's image: unmap an empty gap below it. */
  /* AT_PHDR lies in the executable's first page (the load base). */
  char *gap = (char *)((getauxval(AT_PHDR) & ~4095UL) - 16 * 4096);
  if (munmap(gap, 8192) != 0) return 4;
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, NULL, 0);
  int fd = open("/bin/true", O_RDONLY);
  struct prctl_mm_map map;
  memset(&map, 0, sizeof map);
  map.exe_fd = fd;
  prctl(PR_SET_MM, PR_SET_MM_MAP, &map, sizeof map, 0); /* fails (EINVAL): only the event matters */
  return 7;
}
`;

interface Run {
  outputs: DecodeOutput[];
  stderr: string;
}

/** Starts bpftrace, waits for attached_probes, runs `workload`, stops bpftrace, decodes all. */
async function traceWhile(args: string[], workload: () => Promise<void>): Promise<Run> {
  const proc: ResultPromise = execa('bpftrace', args, { buffer: { stdout: false, stderr: true }, reject: false });
  const decoder = new ProbeDecoder();
  const outputs: DecodeOutput[] = [];
  let lineNo = 0;
  const rl = createInterface({ input: proc.stdout! });
  const closed = new Promise<void>((resolve) => rl.on('close', resolve));
  const attached = new Promise<void>((resolve, reject) => {
    rl.on('line', (line) => {
      for (const o of decoder.push(line, ++lineNo)) {
        outputs.push(o);
        if (o.type === 'attached') resolve();
      }
    });
    proc.then((r) => reject(new Error(`bpftrace exited before attaching: ${String(r.stderr)}`)), reject);
  });
  try {
    await attached;
    await workload();
    await new Promise((r) => setTimeout(r, 500)); // let the perf buffers drain
  } finally {
    proc.kill('SIGINT');
  }
  const result = await proc;
  await closed; // every line read, not only those seen before the process ended
  outputs.push(...decoder.flush());
  return { outputs, stderr: String(result.stderr) };
}

describe.skipIf(skipLive())('tracepoint probes, live', () => {
  let dir: string;
  let prog: string;
  let mountOffset: number;
  let commOffset: number;
  let siblingOffset: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'exetrace-probes-'));
    writeFileSync(join(dir, 'w.c'), WORKLOAD_C);
    prog = join(dir, 'workload');
    await execa('gcc', ['-O1', '-o', prog, join(dir, 'w.c')]);
    const btf = Btf.fromFile();
    mountOffset = mountMntOffset(btf);
    commOffset = taskMemberOffset(btf, 'comm');
    siblingOffset = taskMemberOffset(btf, 'sibling');
  }, 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('decodes exec, fork, mm_attach, mm_exit, munmap, exe_read, prctl_mm and exit of a hostile-named binary', async () => {
    const inv = buildProbeInvocation({ flavor: 'tracepoint', pid: null, comm: null, selfPid: process.pid, mountOffset, commOffset, siblingOffset });
    let hostilePath: Buffer = Buffer.alloc(0);
    const run = await traceWhile(inv.args, async () => {
      const r = await execa(prog, ['launch', dir], { reject: false });
      expect(r.exitCode).toBe(7);
      const entry = readdirSync(dir, { encoding: 'buffer' }).find((n) => n.equals(HOSTILE_NAME));
      expect(entry).toBeDefined();
      hostilePath = Buffer.concat([Buffer.from(dir + '/'), HOSTILE_NAME]);
    });
    expect(run.stderr).not.toMatch(/ERROR: (?!.*RLIMIT_MEMLOCK)/);
    const issues = run.outputs.flatMap((o) => (o.type === 'issue' ? [o.issue] : []));
    // Only events cut short by stopping bpftrace mid-invocation are allowed, none of ours.
    expect(issues.filter((i) => !/parts arrived/.test(i.cause))).toEqual([]);
    // As the recorder does: CPUs merged in time order, exec_begin's filename joined into the exec.
    const events: TraceEvent[] = [];
    const join = new ExecFilenameJoin((e) => events.push(e));
    for (const e of run.outputs.flatMap((o) => (o.type === 'event' ? [o.event] : [])).sort((a, b) => a.ts - b.ts)) join.push(e);
    const st = statSync(hostilePath);

    const exec = events.find(
      (e): e is Extract<TraceEvent, { kind: 'exec' }> => e.kind === 'exec' && e.exe?.ino === st.ino && encodeKernelString(e.comm).equals(HOSTILE_NAME),
    );
    expect(exec).toBeDefined();
    const P = exec!.pid;
    expect(exec!.exe!.dev).toBe(st.dev);
    expect(encodeKernelString(exec!.exe!.name)).toEqual(HOSTILE_NAME);
    expect(encodeKernelString(exec!.exe!.path!)).toEqual(hostilePath);
    expect(exec!.exe!.pathTruncated).toBe(false);
    expect(encodeKernelString(exec!.filename)).toEqual(hostilePath);
    const byPid = events.filter((e) => 'pid' in e && e.pid === P);
    expect(issues.filter((i) => i.raw.includes(` ${P} `))).toEqual([]);

    // The launcher's exec_begin names the hostile path and carries the launcher's (old) mm.
    const begins = byPid.filter((e) => e.kind === 'exec_begin');
    expect(begins.map((e) => e.kind === 'exec_begin' && encodeKernelString(e.filename))).toContainEqual(hostilePath);

    const readlink = byPid.find((e) => e.kind === 'exe_read');
    expect(readlink).toMatchObject({ syscall: 'readlink', path: '/proc/self/exe', targetPid: P, ret: hostilePath.length });
    expect(readlink?.kind === 'exe_read' && encodeKernelString(readlink.answer!)).toEqual(hostilePath);

    expect(byPid.some((e) => e.kind === 'munmap' && e.len === 8192 && e.ret === 0 && e.mm === exec!.mm && e.addr < exec!.startCode)).toBe(true);

    const fork = byPid.find((e) => e.kind === 'fork');
    expect(fork?.kind).toBe('fork');
    if (fork?.kind !== 'fork') return;
    expect(fork.parentMm).toBe(exec!.mm);
    expect(fork.thread).toBe(false);
    expect(fork.sharesMm).toBe(false);
    const attach = events.find((e) => e.kind === 'mm_attach' && e.pid === fork.childPid);
    expect(attach?.kind).toBe('mm_attach');
    if (attach?.kind !== 'mm_attach') return;
    expect(attach.ppid).toBe(P);
    expect(attach.mm).not.toBe(exec!.mm);
    expect(attach.exe?.ino).toBe(st.ino); // inherited through dup_mmap
    expect(events.some((e) => e.kind === 'mm_exit' && e.pid === fork.childPid && e.mm === attach.mm)).toBe(true);

    const prctl = byPid.find((e) => e.kind === 'prctl_mm');
    expect(prctl).toMatchObject({ subOption: 14, mm: exec!.mm });
    expect(prctl?.kind === 'prctl_mm' && prctl.ret < 0 && prctl.exeFd >= 3).toBe(true);
    expect(prctl?.kind === 'prctl_mm' && prctl.exeBefore?.ino).toBe(st.ino);

    expect(byPid.some((e) => e.kind === 'exit' && e.groupDead && e.exitCode === 7 << 8)).toBe(true);
    // mm addresses are reused within milliseconds: only teardowns after our exec count.
    const teardown = byPid.filter((e) => e.kind === 'mm_exit' && e.mm === exec!.mm && e.ts > exec!.ts);
    expect(teardown).toHaveLength(1);
    expect(teardown[0]?.kind === 'mm_exit' && teardown[0].exe?.ino).toBe(st.ino);
  }, 120_000);

  it('keeps a comm-filter injection attempt harmless', async () => {
    const marker = join(dir, 'pwned');
    const injection = `x"; } BEGIN { system("touch ${marker}") } //`;
    expect(() => validateCommFilter(injection)).toThrow(/at most 15 bytes/);
    // Bypass validation on purpose: even then bpftrace must treat it as data.
    const inv = buildProbeInvocation({ flavor: 'tracepoint', pid: null, comm: 'placeholder', selfPid: process.pid, mountOffset, commOffset, siblingOffset });
    const args = inv.args.map((a) => (a === 'placeholder' ? injection : a));
    const run = await traceWhile(args, async () => {
      await execa('true');
    });
    expect(existsSync(marker)).toBe(false);
    // The filter matches nothing (no comm equals that string), so no event got through.
    expect(run.outputs.filter((o) => o.type === 'event')).toEqual([]);
  }, 120_000);
});
