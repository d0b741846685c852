// Decides when the live recorder looks at /proc/<pid>/maps: after an exec once the loader has
// settled, at every read of /proc/<pid>/exe (for the target), and when munmap/mremap/mprotect
// touch a range holding the executable's mappings. Snapshots are rate-limited (a token
// bucket) so a busy host cannot make the collector melt; what was skipped is counted.
import type { ProcSnapshotEvent, TraceEvent } from './events.js';
import { snapshotProcess, type SnapshotReason } from './proc-snapshot.js';

export interface SchedulerOptions {
  /** Where snapshots go (the recorder's reorder window). */
  emit(event: ProcSnapshotEvent): void;
  /** Wait after an exec so ld.so has mapped the program and its libraries. */
  execDelayMs?: number;
  /** Sustained snapshots per second, and the burst allowed above it. */
  ratePerSec?: number;
  burst?: number;
  /** Our own pid: our reads of /proc/<pid>/exe must not trigger more snapshots. */
  selfPid?: number;
  procRoot?: string;
}

type Range = { start: number; end: number };

export class SnapshotScheduler {
  private readonly opts: Required<Omit<SchedulerOptions, 'procRoot'>> & { procRoot: string };
  /** Per thread group: address ranges holding the executable's mappings. */
  private readonly exeRanges = new Map<number, Range[]>();
  private readonly pendingExec = new Map<number, NodeJS.Timeout>();
  private tokens: number;
  private lastRefill = Date.now();
  private stopped = false;
  taken = 0;
  skipped = 0;
  /** Snapshots that found the process already gone. */
  vanished = 0;

  constructor(opts: SchedulerOptions) {
    this.opts = {
      execDelayMs: 50,
      ratePerSec: 200,
      burst: 400,
      selfPid: process.pid,
      procRoot: '/proc',
      ...opts,
    };
    this.tokens = this.opts.burst;
  }

  /** Look at each event as it arrives from the decoder (before reordering: react fast). */
  observe(e: TraceEvent): void {
    if (this.stopped || e.kind === 'gap' || e.kind === 'proc_snapshot') return;
    switch (e.kind) {
      case 'exec':
        this.exeRanges.set(e.pid, e.endCode > e.startCode ? [{ start: e.startCode, end: e.endCode }] : []);
        this.scheduleExec(e.pid);
        break;
      case 'fork':
        if (!e.thread && !e.sharesMm) {
          const parent = this.exeRanges.get(e.pid);
          if (parent) this.exeRanges.set(e.childPid, [...parent]);
        }
        break;
      case 'exit':
        if (e.groupDead) this.forget(e.pid);
        break;
      case 'exe_read':
        // proc_exe_link (kfunc/kprobe) fires inside the readlink that is reported too: one snapshot.
        if (e.syscall !== 'proc_exe_link' && e.pid !== this.opts.selfPid && e.targetPid !== null && e.targetPid !== this.opts.selfPid) {
          this.snapshotNow(e.targetPid, 'exe_read');
        }
        break;
      case 'munmap':
      case 'mprotect':
        if (e.ret === 0 && this.touchesExe(e.pid, e.addr, e.len)) this.snapshotNow(e.pid, 'vma_change');
        break;
      case 'mremap':
        if (e.ret >= 0 && this.touchesExe(e.pid, e.oldAddr, e.oldLen)) this.snapshotNow(e.pid, 'vma_change');
        break;
      default:
        break;
    }
  }

  /** Cancel pending exec snapshots (end of recording). */
  stop(): void {
    this.stopped = true;
    for (const t of this.pendingExec.values()) clearTimeout(t);
    this.pendingExec.clear();
  }

  private forget(pid: number): void {
    this.exeRanges.delete(pid);
    const t = this.pendingExec.get(pid);
    if (t) clearTimeout(t);
    this.pendingExec.delete(pid);
  }

  private touchesExe(pid: number, addr: number, len: number): boolean {
    const ranges = this.exeRanges.get(pid);
    if (!ranges) return false;
    const end = addr + len;
    return ranges.some((r) => addr < r.end && end > r.start);
  }

  private scheduleExec(pid: number): void {
    const old = this.pendingExec.get(pid);
    if (old) clearTimeout(old); // exec'd again: only the latest image matters
    const t = setTimeout(() => {
      this.pendingExec.delete(pid);
      this.snapshotNow(pid, 'exec');
    }, this.opts.execDelayMs);
    this.pendingExec.set(pid, t);
  }

  private allow(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.opts.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.opts.ratePerSec);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private snapshotNow(pid: number, reason: SnapshotReason): void {
    if (this.stopped) return;
    if (!this.allow()) {
      this.skipped++;
      return;
    }
    const r = snapshotProcess(pid, reason, this.opts.procRoot);
    if (!r.ok) {
      this.vanished++;
      return;
    }
    this.taken++;
    const ev = r.event;
    // The exe's ranges as the kernel now has them: what later munmap/mremap must touch.
    if (ev.exeDev !== null && ev.exeIno !== null) {
      this.exeRanges.set(
        ev.pid,
        ev.maps.filter((m) => m.dev === ev.exeDev && m.ino === ev.exeIno).map((m) => ({ start: m.start, end: m.end })),
      );
    }
    this.opts.emit(ev);
  }
}
