// BENCHMARKS.md: a fixed preamble (how to run, the method), then one section per labelled run
// ("Before (33decef)", "After (…)"). A run replaces only the section with its own heading.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { PartResult } from './context.js';
import type { HostFacts } from './host.js';
import { verdict } from './stats.js';

const PREAMBLE = `# Benchmarks

\`npm run bench\` reproduces every figure of the throughput issue in one run, as ratios measured
within that run (interleaved rounds, medians); bare times are shown only as context. It needs
root, bpftrace and tracefs for the tracing parts (the others run anywhere), and is not part of
\`npm test\`. Synthetic traces for figure 6 are kept in \`--trace-cache\` (default
\`/tmp/exetrace-bench-traces\`, about 2.7 GB) so later runs skip generating them (~45 s).
Analyze and replay runs are capped (40 s on the small trace, 200 s on the large: far above a
full run's time here) so a stuck run cannot hold the bench; a capped run's rate is estimated from
the bytes it had read and its verdict says "not measured" where the cap leaves the target
undetermined. The large trace runs 3 rounds too (\`--analyze-large-rounds\`): a single round of it
moved by a quarter with the host's noise.

\`\`\`sh
npm run bench                                   # everything: about 17 min on the 2-core host
npm run bench -- --only exec-rate,analyze       # some parts: storm,lines,cpu,exec-rate,drain,analyze,heap,startup
npm run bench -- --storm-execs 40000 --rounds 5 # sizes; --help lists them all
npm run bench -- --label After                  # heading of the section written below
npm run bench -- --only analyze --node BIN      # figure 6 on another Node build (the host facts name it)
\`\`\`

Each run writes (or replaces) its own section below, headed by its label and the last commit that
touched \`src/\`, \`probes/\` or \`dashboards/\` (the code under test); a run with \`--only\` gets
its own heading (\`## LABEL (COMMIT): PARTS only\`), so it never replaces a full run. Other
sections stay.
Tracers are proven attached the same way (a marker binary exec'd every 100 ms until the tracer's
output shows it) and stopped the same way (SIGINT). Exact commands (BIN is a fresh copy of
\`/bin/true\`, or the static build; N the execs):

\`\`\`sh
sh -c 'i=0; while [ $i -lt "$2" ]; do "$1"; i=$((i+1)); done' loop BIN N            # every exec workload
bpftrace -e 'tracepoint:sched:sched_process_exec { printf("%d\\n", pid); }' > OUT     # one-probe baseline
node dist/bundle/main.js record --out TRACE --quiet                                  # record
node dist/bundle/main.js live --record TRACE < /dev/null > STDOUT                    # live off a TTY
BPFTRACE_PERF_RB_PAGES=… bpftrace -f json probes/tracepoint.bt ARGS > OUT             # bare probes: argv and env read from record's child
node dist/bundle/main.js analyze FILE --format json > /dev/null                      # offline
node dist/bundle/main.js replay FILE --speed max > /dev/null
node dist/bench/parse-lines.js FILE                                                   # bare stream + split + JSON.parse
\`\`\`

Code: \`bench/run.ts\` (options, order), \`bench/parts/*.ts\` (one figure each), \`bench/tracers.ts\`,
\`bench/workload.ts\`, \`bench/proc.ts\`, \`bench/synthetic-trace.ts\` (synthetic traces, through
\`bench/trace-source.ts\`).
`;

/** `## LABEL (COMMIT)`, plus the parts when only some ran, so a partial run never replaces a full one. */
export function heading(label: string, codeCommit: string, partial: string[] | null): string {
  return `## ${label} (${codeCommit})${partial ? `: ${partial.join(', ')} only` : ''}`;
}

export function section(head: string, host: HostFacts, loadEnd: string, argv: string[], minutes: number, parts: PartResult[], retries: string[] = []): string {
  const out: string[] = [];
  out.push(head, '');
  out.push(
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, bench at ${host.commit}${host.dirty ? ' (code under test has uncommitted changes)' : ''}, ${minutes.toFixed(1)} min.`,
    '',
    `| machine | |`,
    `|---|---|`,
    `| nproc | ${host.nproc} (${host.cpu}), ${host.memGiB} GiB |`,
    `| kernel | ${host.kernel} |`,
    `| bpftrace | ${host.bpftrace} |`,
    `| node | ${host.node}${host.analyzeNode === null ? '' : `; figure 6 runs on ${host.analyzeNode}`} |`,
    `| gcc | ${host.gcc} |`,
    `| load average (1, 5, 15 min) | start ${host.loadStart}; end ${loadEnd} |`,
    `| command | \`npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}\` |`,
    '',
    '### Targets',
    '',
    '| figure | result | target | verdict | bounded by (where missed) |',
    '|---|---|---|---|---|',
  );
  for (const p of parts) for (const t of p.targets) out.push(`| ${t.figure} | ${t.result} | ${t.target} | ${verdict(t.met)} | ${t.note ?? ''} |`);
  if (retries.length > 0) out.push('', `Tracers that died before attaching and were started again: ${retries.map((r) => `\`${r}\``).join('; ')}.`);
  for (const p of parts) out.push('', `### ${p.title}`, '', p.body);
  return `${out.join('\n')}\n`;
}

export function writeBenchmarks(path: string, head: string, body: string): void {
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const start = old.indexOf('\n## ');
  const sections = start === -1 ? [] : old.slice(start + 1).split(/\n(?=## )/);
  const kept = sections.filter((s) => s.split('\n', 1)[0] !== head).map((s) => s.trimEnd() + '\n');
  // The newest section first after the preamble, then the others in their old order.
  writeFileSync(path, [PREAMBLE, body, ...kept].join('\n'));
}
