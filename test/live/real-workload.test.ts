// Zero false positives on a real workload: over 2,000 execs of make -j2 of a real multi-file C
// project, git, python3, node, shell pipelines and programs run from a single overlay, recorded
// live and analyzed offline, must give no mismatch finding. Notes are allowed where they are
// true (the overlay binary dropped into the upper layer) and checked to be exactly that.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipLive } from '../support/live-gate.js';
import { startRecord } from '../support/record.js';
import { workloadTree } from '../support/process-tree.js';
import { analyzeJson, mismatchFindings, type AnalyzeOutput } from '../lab/analyze.js';
import { labDir } from '../lab/build.js';

const MIN_EXECS = 2_000;
const WORKLOAD_TIMEOUT_MS = 600_000;

describe.skipIf(skipLive())('zero mismatch findings on a real workload (>= 2,000 execs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exetrace-truth-workload-'));
  const out = join(dir, 'workload.trace.jsonl');
  let tree = new Set<number>();
  let execs = 0;
  const execsByComm: Record<string, number> = {};
  let analysis: AnalyzeOutput;
  let trailer = 'no trailer';

  beforeAll(async () => {
    const rec = startRecord({ out, args: [] });
    let rootPid: number;
    try {
      await rec.ready;
      const child = execa('sh', [join(labDir, 'workload', 'workload.sh'), join(dir, 'w'), labDir], { reject: false, all: true });
      rootPid = child.pid!;
      const done = await child;
      if (done.exitCode !== 0) throw new Error(`workload failed (${done.exitCode}):\n${done.all}`);
      await new Promise((r) => setTimeout(r, 1_000));
    } finally {
      const stopped = await rec.stop();
      // eslint-disable-next-line no-unsafe-finally -- a recorder that did not stop cleanly is the failure to report
      if (stopped.code !== 0) throw new Error(`record exited ${stopped.code}: ${stopped.stderr}`);
    }
    const found = await workloadTree(out, rootPid);
    const t = found.trailer;
    if (t) trailer = `${t.events} events, ${t.lostEvents} lost, ${t.skippedSnapshots ?? 0} snapshots skipped`;
    tree = found.pids;
    execs = found.execs.length;
    Object.assign(execsByComm, found.execsByComm);
    analysis = await analyzeJson(out);
  }, WORKLOAD_TIMEOUT_MS);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const ours = () => analysis.findings.filter((f) => [f.pid, ...(f.pids ?? [])].some((p) => tree.has(p)));

  it('recorded at least 2,000 execs of the workload, from every part of it', () => {
    console.info(`workload: ${tree.size} pids, ${execs} execs; ${trailer}; execs by comm ${JSON.stringify(execsByComm)}`);
    expect(execs).toBeGreaterThanOrEqual(MIN_EXECS);
    for (const comm of ['make', 'cc1', 'as', 'ld', 'git', 'python3', 'node', 'tr', 'sed', 'prog', 'dropped']) {
      expect(execsByComm[comm] ?? 0, `no exec of ${comm}`).toBeGreaterThan(0);
    }
  });

  it('zero mismatch findings for the workload', () => {
    const mismatches = mismatchFindings(analysis).filter((f) => ours().includes(f));
    expect(mismatches, JSON.stringify(mismatches.slice(0, 5), null, 2)).toEqual([]);
  });

  it('the only notes are true ones: exe-upper-layer for the binary dropped into the overlay, never the shipped one', () => {
    const notes = ours().filter((f) => f.kind === 'note');
    const unexplained = notes.filter((f) => !(f.class === 'exe-upper-layer' && f.comm === 'dropped'));
    expect(unexplained, JSON.stringify(unexplained.slice(0, 5), null, 2)).toEqual([]);
    expect(notes.filter((f) => f.class === 'exe-upper-layer').length).toBe(50);
  });
});
