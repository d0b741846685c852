// `npm run bench [-- --only PART,... --label L ...]`: the throughput issue's figures, each as a
// ratio measured within this run, written to BENCHMARKS.md. See BENCHMARKS.md for the method.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchOptions, Ctx, Part, PartResult } from './context.js';
import { hostFacts, load } from './host.js';
import { analyzePart } from './parts/analyze.js';
import { cpuPart, execRatePart } from './parts/exec-rate.js';
import { drainPart } from './parts/drain.js';
import { heapPart } from './parts/heap.js';
import { linesPart } from './parts/lines.js';
import { publishPart } from './parts/publish.js';
import { startupPart } from './parts/startup.js';
import { stormPart } from './parts/storm.js';
import { heading, section, writeBenchmarks } from './report.js';
import { retries } from './tracers.js';
import { nowSec } from './stats.js';
import { prepareBinaries } from './workload.js';

/** In report order; `tracing` parts need root and bpftrace. */
const PARTS: { id: string; run: Part; tracing: boolean }[] = [
  { id: 'storm', run: stormPart, tracing: true },
  { id: 'lines', run: linesPart, tracing: true },
  { id: 'cpu', run: cpuPart, tracing: true },
  { id: 'exec-rate', run: execRatePart, tracing: true },
  { id: 'drain', run: drainPart, tracing: true },
  { id: 'analyze', run: analyzePart, tracing: false },
  { id: 'heap', run: heapPart, tracing: false },
  { id: 'startup', run: startupPart, tracing: true },
  { id: 'publish', run: publishPart, tracing: true },
];

const SIZES = {
  'storm-execs': ['stormExecs', 20_000, 'total execs per storm run (figure 1)'],
  'lines-execs': ['linesExecs', 3_000, 'execs whose bpftrace lines are counted (2)'],
  'lines-rounds': ['linesRounds', 1, 'rounds of 2'],
  'rate-execs': ['rateExecs', 4_000, 'execs per binary per round (3, 4)'],
  rounds: ['rounds', 3, 'interleaved rounds of 3 and 4'],
  'drain-execs': ['drainExecs', 1_500, 'burst before the immediate SIGINT (5)'],
  'drain-rounds': ['drainRounds', 2, 'rounds of 5'],
  'analyze-small': ['analyzeSmall', 100_000, 'mm lifecycles of the small trace (6)'],
  'analyze-large': ['analyzeLarge', 1_000_000, 'mm lifecycles of the large trace (6)'],
  'analyze-rounds': ['analyzeRounds', 3, 'rounds on the small trace (6)'],
  'analyze-large-rounds': ['analyzeLargeRounds', 3, 'rounds on the large trace (6): one round of it is at the mercy of a noisy host'],
  'analyze-timeout': ['analyzeTimeoutS', 40, 'cap in seconds per run on the small trace (6)'],
  'analyze-large-timeout': ['analyzeLargeTimeoutS', 200, 'cap in seconds per run on the large trace (6)'],
  'live-mms': ['liveMms', 50_000, 'live mms for the heap figure (6)'],
  'startup-rounds': ['startupRounds', 3, 'rounds of 7'],
  'publish-execs': ['publishExecs', 20_000, 'execs per run of 8 (2 loops)'],
  'publish-rounds': ['publishRounds', 2, 'interleaved rounds of 8'],
} as const;

function usage(): string {
  const lines = [
    'usage: npm run bench -- [--only PART,...] [--label LABEL] [--out FILE] [--no-write] [--keep] [--SIZE N ...]',
    `parts: ${PARTS.map((p) => p.id).join(', ')}`,
    'sizes:',
  ];
  for (const [flag, [, def, what]] of Object.entries(SIZES)) lines.push(`  --${flag} N`.padEnd(30) + `${what} (default ${def})`);
  lines.push('  --storm-loops 2,4'.padEnd(30) + 'parallel loops per storm run (1)');
  lines.push('  --node BIN'.padEnd(30) + "Node binary for figure 6's runs (default: the one running the bench)");
  lines.push('  --trace-cache DIR'.padEnd(30) + 'where synthetic traces are kept between runs (default /tmp/exetrace-bench-traces)');
  return lines.join('\n');
}

const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv,
  options: {
    only: { type: 'string' },
    label: { type: 'string', default: 'Results' },
    out: { type: 'string', default: 'BENCHMARKS.md' },
    'no-write': { type: 'boolean', default: false },
    'storm-loops': { type: 'string', default: '2,4' },
    'trace-cache': { type: 'string', default: '/tmp/exetrace-bench-traces' },
    node: { type: 'string', default: process.execPath },
    help: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    ...Object.fromEntries(Object.keys(SIZES).map((k) => [k, { type: 'string' as const }])),
  },
});
if (values.help) {
  console.log(usage());
  process.exit(0);
}
const only = new Set(
  (values.only as string | undefined)
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean) ?? PARTS.map((p) => p.id),
);
for (const id of only)
  if (!PARTS.some((p) => p.id === id)) {
    console.error(`unknown part "${id}"\n${usage()}`);
    process.exit(2);
  }
const num = (flag: keyof typeof SIZES): number => {
  const [, def] = SIZES[flag];
  const v = (values as Record<string, unknown>)[flag];
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) {
    console.error(`--${flag} needs a positive integer, not ${String(v)}`);
    process.exit(2);
  }
  return n;
};
const opts = Object.fromEntries(Object.entries(SIZES).map(([flag, [key]]) => [key, num(flag as keyof typeof SIZES)])) as unknown as BenchOptions;
opts.only = only;
opts.stormLoops = String(values['storm-loops']).split(',').map(Number);
opts.traceCache = String(values['trace-cache']);
opts.node = String(values.node);
if (spawnSync(opts.node, ['--version']).status !== 0) {
  console.error(`--node ${opts.node}: cannot run it (\`${opts.node} --version\` failed)`);
  process.exit(2);
}

const root = process.getuid?.() === 0;
const t0 = nowSec();
// The host table names figure 6's Node only when figure 6 runs.
const host = hostFacts(only.has('analyze') ? opts.node : process.execPath);
const dir = mkdtempSync(join(tmpdir(), 'exetrace-bench-'));
const ctx: Ctx = {
  dir,
  bins: prepareBinaries(dir),
  opts,
  log: (m) => process.stderr.write(`[${(nowSec() - t0).toFixed(0).padStart(4)} s] ${m}\n`),
};
const results: PartResult[] = [];
let failed = 0;
for (const p of PARTS) {
  if (!only.has(p.id)) continue;
  if (p.tracing && !root) {
    results.push({ id: p.id, title: p.id, body: 'Not measured: needs root and bpftrace.', targets: [] });
    continue;
  }
  const ps = nowSec();
  try {
    const r = await p.run(ctx);
    results.push(r);
    ctx.log(`${p.id} done in ${(nowSec() - ps).toFixed(0)} s`);
    for (const t of r.targets) ctx.log(`  ${t.figure}: ${t.result} (target ${t.target}) ${t.met === null ? 'not measured' : t.met ? 'met' : 'MISSED'}`);
  } catch (err) {
    failed++;
    ctx.log(`${p.id} failed: ${(err as Error).stack ?? String(err)}`);
    results.push({
      id: p.id,
      title: p.id,
      body: `Failed: ${(err as Error).message}`,
      targets: [{ figure: p.id, result: `failed: ${(err as Error).message}`, target: '', met: null }],
    });
  }
}
const minutes = (nowSec() - t0) / 60;
const partial = PARTS.every((p) => only.has(p.id)) ? null : PARTS.filter((p) => only.has(p.id)).map((p) => p.id);
const head = heading(String(values.label), host.codeCommit, partial);
const md = section(head, host, load(), argv, minutes, results, retries);
if (values['no-write']) process.stdout.write(md);
else {
  writeBenchmarks(String(values.out), head, md);
  ctx.log(`wrote ${values.out} (section "${head.slice(3)}") in ${minutes.toFixed(1)} min`);
}
if (values.keep) ctx.log(`kept ${dir}`);
else rmSync(dir, { recursive: true, force: true });
process.exitCode = failed > 0 ? 1 : 0;
