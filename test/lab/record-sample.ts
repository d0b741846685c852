// Records the bundled sample trace (samples/lab.trace.jsonl): the real recorder on this kernel
// while the scenario lab runs every case, then checks the trace holds every finding class.
// Run as root: npm run sample:record [-- OUT]
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { NOTE_CLASSES, type FindingClass } from '../../src/model/finding-classes.js';
import { startRecord } from '../support/record.js';
import { analyzeJson } from './analyze.js';
import { buildLab } from './build.js';
import { runAllScenarios } from './scenarios.js';

const out = process.argv[2] ?? 'samples/lab.trace.jsonl';
mkdirSync(dirname(out), { recursive: true });
buildLab();
const rec = startRecord({ out });
await rec.ready;
// Some ordinary activity too, so the sample shows what "no finding" looks like.
execFileSync('/bin/sh', ['-c', 'for i in 1 2 3 4 5; do ls / >/dev/null; cat /etc/hostname >/dev/null; readlink /proc/self/exe >/dev/null; done']);
const runs = await runAllScenarios({ holdMs: 2_000 });
const stopped = await rec.stop();
if (stopped.code !== 0) throw new Error(`record exited ${stopped.code}: ${stopped.stderr}`);

const analysis = await analyzeJson(out);
let missing = 0;
for (const run of runs) {
  const found = analysis.findings.filter((f) => f.pid === run.pid).map((f) => f.class);
  const ok = run.expectedClass === null ? found.every((c) => NOTE_CLASSES.includes(c as FindingClass)) : found.includes(run.expectedClass);
  if (!ok) missing++;
  console.log(
    `${ok ? 'ok ' : 'MISSING'} ${run.id.padEnd(15)} pid ${run.pid}: expected ${run.expectedClass ?? 'no finding'}, found ${found.join(', ') || 'none'}`,
  );
}
if (missing > 0) process.exit(1);
// Traces are 0600 (they hold every path on the host); this one ships, and npm start replays it as any user.
chmodSync(out, 0o644);
console.log(`sample trace written to ${out}`);
