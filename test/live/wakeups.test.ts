// bpftrace's output wakeups, batched (native/wakeup-batching.c preloaded, the default with
// bpftrace 0.17) and per event (EXETRACE_WAKEUP_BATCHING=0): which one ran is in bpftrace's
// maps and in the trace header, and a lone exec on a quiet host still reaches the trace at
// once. Batched, one exec writes a few hundred bytes, far below the 64 KiB watermark: only the
// library's poll can deliver it before the stop. Execs are found by the exe's (dev, ino).
import { execa } from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceHeader, TraceTrailer } from '../../src/trace/trace-format.js';
import { readTrace } from '../../src/trace/trace-reader.js';
import { freshBinary, type FreshBinary } from '../support/fresh-binary.js';
import { skipLive } from '../support/live-gate.js';
import { startRecord } from '../support/record.js';

/** The bpftrace below `ancestor` (through setpriv/unshare, whatever wraps it). */
function bpftraceUnder(ancestor: number): number | null {
  const parentOf = (pid: number): number | null => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return null;
    }
  };
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/${name}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (comm !== 'bpftrace') continue;
    for (let p: number | null = Number(name); p !== null && p > 1; p = parentOf(p)) if (p === ancestor) return Number(name);
  }
  return null;
}

interface Seen {
  header: TraceHeader | null;
  trailer: TraceTrailer | null;
  execs: number;
}

async function scan(trace: string, exe: { dev: number; ino: number }): Promise<Seen> {
  const seen: Seen = { header: null, trailer: null, execs: 0 };
  for await (const r of readTrace(trace)) {
    if (r.type === 'header') seen.header = r.header;
    else if (r.type === 'trailer') seen.trailer = r.trailer;
    else if (r.type === 'event' && r.event.kind === 'exec' && r.event.exe?.dev === exe.dev && r.event.exe.ino === exe.ino) seen.execs++;
  }
  return seen;
}

describe.skipIf(skipLive())('bpftrace output wakeups (live)', () => {
  let dir: string;
  let binary: string;
  let id: { dev: number; ino: number };
  let fresh: FreshBinary;

  beforeAll(() => {
    fresh = freshBinary('exetrace-wakeups-', 'lone-true');
    ({ dir, binary, id } = fresh);
  });
  afterAll(() => fresh?.cleanup());

  it.each([
    ['batched', {}],
    ['per-event', { EXETRACE_WAKEUP_BATCHING: '0' }],
  ] as const)(
    '%s: bpftrace runs as the header says, and a lone exec reaches the trace within 3 s',
    async (mode, env) => {
      const out = join(dir, `${mode}.jsonl`);
      const rec = startRecord({ out, env });
      await rec.ready;
      const bpftrace = bpftraceUnder(rec.pid);
      expect(bpftrace).not.toBeNull();
      expect(readFileSync(`/proc/${bpftrace}/maps`, 'utf8').includes('/wakeup-batching.so')).toBe(mode === 'batched');

      const started = Date.now();
      await execa(binary);
      let arrivedMs: number | null = null;
      while (Date.now() - started < 10_000) {
        if ((await scan(out, id)).execs > 0) {
          arrivedMs = Date.now() - started;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      const r = await rec.stop();
      expect(r.code).toBe(0);
      expect(arrivedMs).not.toBeNull();
      expect(arrivedMs!).toBeLessThan(3_000);

      const seen = await scan(out, id);
      expect(seen.header?.wakeups).toBe(mode);
      expect(seen.execs).toBe(1);
      expect(seen.trailer?.lostEvents).toBe(0);
      expect(seen.trailer?.drain?.complete).toBe(true);
    },
    180_000,
  );
});
