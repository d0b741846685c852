// Starting bpftrace: its command line (setpriv --pdeathsig, the private available_events), its
// environment, and its stdout on a polled FIFO. Apart from the runner so that the recorder can
// start bpftrace before it knows it will keep it (during the flavor trials) and hand the
// running process to a runner later; until then its output waits in the FIFO and the stderr pipe.
import { accessSync, constants } from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import { bpftraceCommand } from './available-events.js';
import { openPolledFifo, type PolledFifo } from './polled-fifo.js';

export interface SpawnOptions {
  /** bpftrace's whole argv (probe-program.ts builds it); must select `-f json` output. */
  args: readonly string[];
  bpftrace?: string;
  /** Do not wrap bpftrace in `setpriv --pdeathsig KILL` (on by default when setpriv exists). */
  noDeathSignal?: boolean;
  /** Extra environment (e.g. BPFTRACE_STRLEN). */
  env?: Record<string, string>;
  /**
   * The tracepoints the program uses: bpftrace 0.17 re-reads tracefs' available_events for
   * every probe (1,749 reads, over 1 s of CPU here); it is given only these lines instead.
   */
  tracepoints?: readonly string[];
}

export type BpftraceChild = ResultPromise<{ reject: false; buffer: false; stdin: 'ignore'; detached: true }>;

export interface BpftraceProcess {
  child: BpftraceChild;
  /** bpftrace's stdout, read every few ms (null: a plain pipe, where no FIFO could be made). */
  fifo: PolledFifo | null;
  /** End a start that is not kept (SIGKILL: nothing of its output is wanted). */
  discard(): void;
}

export function spawnBpftrace(opts: SpawnOptions): BpftraceProcess {
  // detached: a terminal Ctrl-C reaches only exetrace, which then stops bpftrace itself
  // (otherwise bpftrace could exit first and look like a crash).
  // setpriv --pdeathsig: if exetrace itself is killed (kill -9, OOM), the kernel kills
  // bpftrace too; otherwise it was measured to linger with its probes attached. setpriv
  // execs bpftrace, so the pid stays bpftrace's.
  const bpftrace = opts.bpftrace ?? 'bpftrace';
  const setpriv = opts.noDeathSignal ? null : findSetpriv();
  const inner = bpftraceCommand(bpftrace, opts.args, opts.tracepoints ?? null);
  const [file, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', inner.file, ...inner.args]] : [inner.file, inner.args];
  const fifo = openPolledFifo();
  const child = execa(file, argv, {
    reject: false,
    buffer: false,
    stdin: 'ignore',
    // execa hands an fd number straight to child_process.spawn (its types list only 1-9);
    // child.stdout is then null, and the FIFO is read instead.
    stdout: (fifo?.writeFd ?? 'pipe') as 'pipe',
    detached: true,
    env: opts.env ?? {},
  });
  fifo?.closeWriteEnd(); // the child holds it now: its exit ends the FIFO
  return {
    child,
    fifo,
    discard() {
      child.kill('SIGKILL');
      // Nobody reads its output any more: let both ends run dry and close, or their handles
      // would keep exetrace's event loop alive.
      child.stderr?.resume();
      void fifo?.read(() => {});
    },
  };
}

/** util-linux setpriv (Debian: always installed), or null. */
function findSetpriv(): string | null {
  for (const p of ['/usr/bin/setpriv', '/bin/setpriv']) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // try the next
    }
  }
  return null;
}
