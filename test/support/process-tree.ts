// A workload's own processes in a recorded trace: the tree under its root pid, from the trace's
// fork events (other tools share the host; their findings are not a workload test's business).
import { readTrace } from '../../src/trace/trace-reader.js';
import type { ExecEvent } from '../../src/trace/events.js';
import type { TraceTrailer } from '../../src/trace/trace-format.js';

export interface WorkloadTree {
  pids: Set<number>;
  /** The workload's execs, in trace order. */
  execs: ExecEvent[];
  execsByComm: Record<string, number>;
  trailer: TraceTrailer | null;
}

export async function workloadTree(tracePath: string, rootPid: number): Promise<WorkloadTree> {
  const children = new Map<number, number[]>();
  const all: ExecEvent[] = [];
  let trailer: TraceTrailer | null = null;
  for await (const r of readTrace(tracePath)) {
    if (r.type === 'trailer') trailer = r.trailer;
    if (r.type !== 'event') continue;
    const e = r.event;
    if (e.kind === 'fork' && !e.thread) children.set(e.pid, [...(children.get(e.pid) ?? []), e.childPid]);
    if (e.kind === 'exec') all.push(e);
  }
  const pids = new Set<number>([rootPid]);
  const queue = [rootPid];
  while (queue.length > 0) {
    for (const c of children.get(queue.pop()!) ?? []) {
      if (!pids.has(c)) {
        pids.add(c);
        queue.push(c);
      }
    }
  }
  const execs = all.filter((e) => pids.has(e.pid));
  const execsByComm: Record<string, number> = {};
  for (const e of execs) execsByComm[e.comm] = (execsByComm[e.comm] ?? 0) + 1;
  return { pids, execs, execsByComm, trailer };
}
