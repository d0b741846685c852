// 6. Offline speed and memory: `exetrace analyze FILE` (text, the default, and --format json)
// and `exetrace replay FILE --speed max` (all to /dev/null) in events/s as a ratio to a bare
// stream + line split + JSON.parse of the same file (parse-lines.ts), interleaved rounds,
// medians; on a small and a large synthetic trace (the rate must not fall with size); peak RSS
// (VmHWM, polled) on the large.
// A run is capped; a capped run's rate is estimated from the bytes it had read (/proc/PID/io).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filePosition, rcharBytes, threadSeconds, vmHwmBytes } from '../proc.js';
import { fmt, int, mb, median, nowSec, sleep } from '../stats.js';
import { syntheticSourceName, writeSyntheticTrace } from '../trace-source.js';
import { CLI, REPO } from '../tracers.js';
import type { Ctx, PartResult, TargetRow } from '../context.js';

const PARSE = fileURLToPath(new URL('../parse-lines.js', import.meta.url));
type Tool = 'parse' | 'analyze' | 'analyze-json' | 'replay';
/** The tools measured against the bare parse. */
const TOOLS: readonly Exclude<Tool, 'parse'>[] = ['analyze', 'analyze-json', 'replay'];

interface Run {
  tool: Tool;
  rate: number;
  secs: number;
  hwm: number;
  capped: boolean;
  /** Fraction of the file read when capped. */
  progress: number;
  code: number | null;
  /** On-CPU seconds of the main thread, of the busiest other thread (the trace-read worker), and of all others. */
  cpuMain: number;
  cpuWorker: number;
  cpuOthers: number;
  /** Events/s while the read position went from LATE_FROM to LATE_TO of the file (after start-up and warm-up), or null if not seen. */
  lateRate: number | null;
}

/** The stretch of the file whose rate shows the cost per event once start-up and JIT warm-up are over. */
const LATE_FROM = 0.5;
const LATE_TO = 0.95;

/**
 * Seconds of a run not explained by its late rate: wall time minus the events at the late rate.
 * Start-up and JIT warm-up; if it is the same on both traces, it is a fixed cost, not a per-event one.
 */
const fixedSecs = (r: Run, events: number): number | null => (r.lateRate === null || r.capped ? null : r.secs - events / r.lateRate);

/** Events/s between the first position sample at LATE_FROM of the file and the last one below LATE_TO. */
function lateRate(samples: readonly { t: number; pos: number }[], size: number, events: number): number | null {
  const a = samples.find((x) => x.pos >= LATE_FROM * size);
  const b = samples.findLast((x) => x.pos <= LATE_TO * size);
  if (a === undefined || b === undefined || b.t <= a.t || b.pos <= a.pos) return null;
  return (((b.pos - a.pos) / size) * events) / (b.t - a.t);
}

async function traceFile(ctx: Ctx, lifecycles: number): Promise<{ path: string; events: number }> {
  mkdirSync(ctx.opts.traceCache, { recursive: true });
  const src = (await syntheticSourceName()).replace(/\W+/g, '_');
  // Keyed by the generator's code (the build rewrites its file, so not by mtime).
  const code = ['../synthetic-trace.js']
    .map((f) => fileURLToPath(new URL(f, import.meta.url)))
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f));
  const key = createHash('sha256').update(Buffer.concat(code)).digest('hex').slice(0, 12);
  const path = join(ctx.opts.traceCache, `${src}-${lifecycles}-${key}.jsonl`);
  const countPath = `${path}.events`;
  if (existsSync(path) && existsSync(countPath)) {
    return { path, events: Number(readFileSync(countPath, 'utf8')) };
  }
  // Traces of older generator code are stale (and large): drop them.
  for (const f of readdirSync(ctx.opts.traceCache)) if (f.startsWith(`${src}-${lifecycles}-`)) rmSync(join(ctx.opts.traceCache, f), { force: true });
  ctx.log(`analyze: generating ${int(lifecycles)} lifecycles into ${path}`);
  const events = await writeSyntheticTrace(`${path}.tmp`, { lifecycles });
  renameSync(`${path}.tmp`, path);
  writeFileSync(countPath, String(events));
  return { path, events };
}

async function runTool(node: string, tool: Tool, file: string, events: number, capS: number): Promise<Run> {
  const args = {
    parse: [PARSE, file],
    analyze: [CLI, 'analyze', file],
    'analyze-json': [CLI, 'analyze', file, '--format', 'json'],
    replay: [CLI, 'replay', file, '--speed', 'max'],
  }[tool];
  const size = statSync(file).size;
  const devnull = openSync('/dev/null', 'w');
  const t0 = nowSec();
  const child = spawn(node, args, { stdio: ['ignore', devnull, 'pipe'], cwd: REPO });
  closeSync(devnull);
  let code: number | null | undefined;
  const exited = new Promise<void>((resolve) => child.on('exit', (c) => ((code = c), resolve())));
  child.stderr?.resume();
  let hwm = 0;
  let rchar = 0;
  let capped = false;
  // Threads' CPU as last seen (a thread's figure is gone once it exits): polled with the rest.
  const threads = new Map<number, number>();
  const positions: { t: number; pos: number }[] = [];
  while (code === undefined) {
    const pos = filePosition(child.pid!, file);
    if (pos !== null) positions.push({ t: nowSec(), pos });
    hwm = Math.max(hwm, vmHwmBytes(child.pid!) ?? 0);
    rchar = Math.max(rchar, rcharBytes(child.pid!) ?? 0);
    for (const [tid, s] of threadSeconds(child.pid!)) threads.set(tid, s);
    if (nowSec() - t0 > capS) {
      capped = true;
      child.kill('SIGKILL');
      break;
    }
    await Promise.race([exited, sleep(100)]);
  }
  await exited;
  const secs = nowSec() - t0;
  const progress = capped ? Math.min(1, rchar / size) : 1;
  const others = [...threads].filter(([tid]) => tid !== child.pid).map(([, s]) => s);
  const cpuWorker = Math.max(0, ...others);
  const cpuOthers = others.reduce((a, b) => a + b, 0);
  return {
    tool,
    rate: (events * progress) / secs,
    secs,
    hwm,
    capped,
    progress,
    code: code ?? null,
    cpuMain: threads.get(child.pid!) ?? 0,
    cpuWorker,
    cpuOthers,
    lateRate: lateRate(positions, size, events),
  };
}

const lateCell = (r: Run): string => (r.lateRate === null ? '-' : int(r.lateRate));
const secsCell = (s: number | null): string => (s === null ? '-' : fmt(s, 2));
const rateCell = (r: Run): string => (r.capped ? `≤ ${int(r.rate)} (capped at ${fmt(r.secs, 0)} s, ${fmt(100 * r.progress, 0)}% read)` : int(r.rate));

export async function analyzePart(ctx: Ctx): Promise<PartResult> {
  const o = ctx.opts;
  // As the commands show it: `node` unless --node names another binary.
  const node = o.node === process.execPath ? 'node' : o.node;
  const sizes: { name: string; lifecycles: number; rounds: number; capS: number }[] = [
    { name: 'small', lifecycles: o.analyzeSmall, rounds: o.analyzeRounds, capS: o.analyzeTimeoutS },
    { name: 'large', lifecycles: o.analyzeLarge, rounds: o.analyzeLargeRounds, capS: o.analyzeLargeTimeoutS },
  ];
  const rows = [
    `| trace | round | tool | events/s | events/s from ${100 * LATE_FROM}% to ${100 * LATE_TO}% of the file | wall s | fixed s: wall − events ÷ late rate | CPU s: main / worker / all other threads | peak RSS | exit |`,
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const med: Record<string, Record<Tool, number>> = {};
  const lateMed: Record<string, Record<Tool, number | null>> = {};
  const fixedMed: Record<string, Record<Tool, number | null>> = {};
  const hwm: Record<string, Record<Tool, Run[]>> = {};
  const anyCapped: Record<string, boolean> = {};
  const traces: ((typeof sizes)[number] & { path: string; events: number; runs: Run[] })[] = [];
  for (const size of sizes) traces.push({ ...size, ...(await traceFile(ctx, size.lifecycles)), runs: [] });
  const eventsLarge = traces.find((t) => t.name === 'large')!.events;
  // The sizes alternate within each round: a noisy host's drift falls on both traces alike, and
  // the large ÷ small rate compares runs minutes apart at most.
  for (let r = 0; r < Math.max(...traces.map((t) => t.rounds)); r++) {
    for (const { name, lifecycles, path, events, capS, rounds, runs } of traces) {
      if (r >= rounds) continue;
      for (const tool of ['parse', ...TOOLS] as Tool[]) {
        ctx.log(`analyze: ${name} (${int(lifecycles)} lifecycles) round ${r + 1} ${tool}`);
        const run = await runTool(o.node, tool, path, events, capS);
        runs.push(run);
        rows.push(
          `| ${int(lifecycles)} lifecycles, ${int(events)} events | ${r + 1} | ${tool} | ${rateCell(run)} | ${lateCell(run)} | ${fmt(run.secs, 1)} | ${secsCell(fixedSecs(run, events))} | ${fmt(run.cpuMain, 1)} / ${fmt(run.cpuWorker, 1)} / ${fmt(run.cpuOthers, 1)} | ${mb(run.hwm)}${run.capped ? ' (at cap)' : ''} | ${run.capped ? 'killed at cap' : run.code} |`,
        );
      }
    }
  }
  for (const { name: sizeName, events, runs } of traces) {
    const m = (t: Tool): number => median(runs.filter((x) => x.tool === t).map((x) => x.rate));
    med[sizeName] = { parse: m('parse'), analyze: m('analyze'), 'analyze-json': m('analyze-json'), replay: m('replay') };
    const late = (t: Tool): number | null => {
      const rates = runs.filter((x) => x.tool === t && x.lateRate !== null).map((x) => x.lateRate!);
      return rates.length === 0 ? null : median(rates);
    };
    lateMed[sizeName] = { parse: late('parse'), analyze: late('analyze'), 'analyze-json': late('analyze-json'), replay: late('replay') };
    const fixed = (t: Tool): number | null => {
      const secs = runs.filter((x) => x.tool === t).map((x) => fixedSecs(x, events));
      return secs.every((x) => x !== null) ? median(secs as number[]) : null;
    };
    fixedMed[sizeName] = { parse: fixed('parse'), analyze: fixed('analyze'), 'analyze-json': fixed('analyze-json'), replay: fixed('replay') };
    hwm[sizeName] = {
      parse: runs.filter((x) => x.tool === 'parse'),
      analyze: runs.filter((x) => x.tool === 'analyze'),
      'analyze-json': runs.filter((x) => x.tool === 'analyze-json'),
      replay: runs.filter((x) => x.tool === 'replay'),
    };
    anyCapped[sizeName] = runs.some((x) => x.capped && x.tool !== 'parse');
  }
  const s = med.small!;
  const l = med.large!;
  /** Large ÷ small events/s over the late stretch of each file, or null when a run gave no samples there. */
  const lateScale = (t: Tool): number | null => {
    const a = lateMed.small![t];
    const b = lateMed.large![t];
    return a === null || b === null ? null : b / a;
  };
  const ratios = [
    `| tool | small: events/s ÷ parse | large: events/s ÷ parse | large rate ÷ small rate | the same from ${100 * LATE_FROM}% to ${100 * LATE_TO}% of the file | fixed s, small / large |`,
    '|---|---|---|---|---|---|',
  ];
  for (const t of ['parse', ...TOOLS] as Tool[]) {
    const late = lateScale(t);
    ratios.push(
      `| ${t} | ${fmt(s[t] / s.parse, 3)} | ${fmt(l[t] / l.parse, 3)} | ${fmt(l[t] / s[t])} | ${late === null ? '-' : fmt(late)} | ${secsCell(fixedMed.small![t])} / ${secsCell(fixedMed.large![t])} |`,
    );
  }
  const targets: TargetRow[] = [];
  const capped = anyCapped.small! || anyCapped.large!;
  for (const t of TOOLS) {
    // The slower of the two sizes decides; a capped run's rate is an upper bound, so it can prove only a miss.
    const worst = Math.min(s[t] / s.parse, l[t] / l.parse);
    const met = worst >= 0.5 ? (capped ? null : true) : false;
    targets.push({
      figure: `6. ${t}: events/s ÷ bare parse, ${int(o.analyzeSmall)} and ${int(o.analyzeLarge)} lifecycles`,
      result: `${fmt(s[t] / s.parse, 3)} and ${fmt(l[t] / l.parse, 3)}${capped ? ', from capped runs' : ''}`,
      target: '≥ 0.5',
      met,
      ...(met === true
        ? {}
        : {
            note:
              met === null
                ? 'not determined: a run hit its cap before the end of the trace'
                : `bounded by the CPU of both cores: a worker thread reads, parses and validates (JSON.parse alone is most of a bare parse) while the main thread runs the model and writes the output, and ${{ replay: 'a line per event is formatted there', analyze: 'every ended mm is formatted there', 'analyze-json': 'every ended mm goes through JSON.stringify there (a line of about 850 bytes each)' }[t]} (per-thread CPU in the table)`,
          }),
    });
  }
  for (const t of TOOLS) {
    const scale = l[t] / s[t];
    const within = Math.abs(scale - 1) <= 0.25;
    targets.push({
      figure: `6. ${t}: events/s at ${int(o.analyzeLarge)} vs ${int(o.analyzeSmall)} lifecycles`,
      result: `${fmt(scale)} (${fmt(s[t] / s.parse, 3)} → ${fmt(l[t] / l.parse, 3)} of bare parse)${capped ? ', from capped runs' : ''}`,
      target: 'within 25% (0.75–1.25)',
      // A capped run's rate covers only the start of its trace: not the whole-trace figure asked for.
      met: capped ? null : within,
      ...(capped
        ? {
            note: `not determined: runs hit the cap (${o.analyzeTimeoutS} s small, ${o.analyzeLargeTimeoutS} s large) before the end of the trace; over what they read the ratio is ${fmt(scale)}. Bounded by the speed itself: ${fmt(s[t] / s.parse, 3)} of a bare parse`,
          }
        : within
          ? {}
          : {
              note:
                scale < 1
                  ? 'events/s falls as the trace grows: per-event work grows with the mms seen'
                  : `events/s rises with size: a fixed start-up cost (node and the worker thread starting, then about a CPU-second of JIT compilation on threads that share the two cores) weighs more on the small trace. Wall time minus the events at the late rate is ${secsCell(fixedMed.small![t])} s on the small trace and ${secsCell(fixedMed.large![t])} s on the large; from ${100 * LATE_FROM}% to ${100 * LATE_TO}% of each file the large ÷ small rate is ${lateScale(t) === null ? 'not measured' : fmt(lateScale(t)!)}`,
            }),
    });
  }
  const LIMIT = 300 * 2 ** 20;
  for (const t of TOOLS) {
    // The worst round decides.
    const r = hwm.large![t].reduce((a, b) => (b.hwm > a.hwm ? b : a));
    // Reaching the limit at any point proves a miss; a capped run below it proves nothing.
    const met = r.hwm >= LIMIT ? false : r.capped ? null : true;
    targets.push({
      figure: `6. ${t} peak RSS at ${int(o.analyzeLarge)} lifecycles`,
      result: `${r.capped ? '≥ ' : ''}${mb(r.hwm)}${r.capped ? ` after ${fmt(100 * r.progress, 0)}% of the trace` : ''}`,
      target: '< 300 MB',
      met,
      ...(met === true
        ? {}
        : {
            note:
              met === null
                ? `not determined: killed at the ${o.analyzeLargeTimeoutS} s cap below the limit`
                : `over the limit after ${fmt(100 * r.progress, 0)}% of the trace: memory grows with the trace`,
          }),
    });
  }
  return {
    id: 'analyze',
    title: '6. Analyze and replay speed, peak RSS',
    body:
      `Synthetic traces (the current schema, with its file dictionary) from ${await syntheticSourceName()}: each mm lifecycle is fork, mm_attach, exec_begin, mm_exit (old mm), exec, 3 mmaps, exit, mm_exit ` +
      `(10 events). Commands: \`${node} dist/bundle/main.js analyze FILE >/dev/null\` (analyze), \`${node} dist/bundle/main.js analyze FILE --format json >/dev/null\` (analyze-json), \`${node} dist/bundle/main.js replay FILE --speed max >/dev/null\`, ` +
      `\`${node} dist/bench/parse-lines.js FILE\` (the bare baseline); interleaved per round, ${o.analyzeRounds} rounds on the small trace and ${o.analyzeLargeRounds} on the large (${int(eventsLarge)} events), the two traces alternating within each round so that the host's drift falls on both. ` +
      `Each run is capped (${o.analyzeTimeoutS} s on the small trace, ${o.analyzeLargeTimeoutS} s on the large; \`--analyze-timeout\`, \`--analyze-large-timeout\`); a capped run's rate is the events in the bytes it had read (rchar) over its time, an upper bound. The late rate is the same file's events over the time its read position (/proc/PID/fdinfo) took from ${100 * LATE_FROM}% to ${100 * LATE_TO}% of its size, polled every 100 ms: the cost per event once start-up and warm-up are over. Fixed seconds are a run's wall time minus its events at its late rate: what start-up and warm-up cost beyond that; about equal on both traces, they are a fixed cost, not one that grows with the trace. Peak RSS: VmHWM polled every 100 ms; CPU per thread from /proc/PID/task/TID/schedstat, as last seen (the busiest thread besides the main one is the trace-read worker; the rest are V8's GC helpers and libuv).\n\n` +
      `${rows.join('\n')}\n\nMedians as ratios:\n\n${ratios.join('\n')}`,
    targets,
  };
}
