// `exetrace doctor`: what this host can trace and which flavor `auto` picks, found by trying.
import { release, hostname } from 'node:os';
import type { Command } from 'commander';
import { btfPresent, bpftraceFindsBtf, bpftraceVersion, ensureTracefs, findBpftrace, isRoot, kprobeEventsPresent, lockdownMode } from '../kernel/host-facts.js';
import { Btf } from '../kernel/btf.js';
import { detectExecEntry } from '../kernel/exec-entry.js';
import { changesFor, dialectFor, parseBpftraceVersion, unprovenNote, type BpftraceDialect, type DialectChange } from '../trace/bpftrace-dialect.js';
import { LADDER, pickFlavor, tryFlavor, type FlavorTrial } from '../trace/flavor-ladder.js';
import { DEFAULT_VARIANT, programRelativePath } from '../trace/probe-program.js';
import type { Flavor } from '../trace/trace-format.js';
import { detectableHere } from '../report/flavor-capabilities.js';
import type { FindingClass } from '../model/state.js';
import { ringPages } from '../trace/record/bpftrace-env.js';
import { planWakeups, type WakeupMode } from '../trace/wakeup-batching.js';

const EXAMPLES = `
Examples:
  exetrace doctor          # human-readable report
  exetrace doctor --json   # the same as one JSON object

Exit status: 0 when a flavor can record on this host, 1 otherwise (not root, no bpftrace,
no flavor loads).`;

export interface DoctorReport {
  kernelRelease: string;
  hostname: string;
  root: boolean;
  lockdown: { mode: string | null; note: string | null };
  btf: boolean;
  tracefs: { path: string | null; mountedNow: boolean; note: string | null };
  kprobeEvents: boolean;
  bpftrace: {
    path: string | null;
    version: string | null;
    note: string | null;
    /** The language the probe programs are written in for this version, and where they are. */
    /** Does bpftrace find the kernel's BTF itself? When not, exetrace passes BPFTRACE_BTF. */
    findsBtf: boolean | null;
    dialect: BpftraceDialect;
    programs: string;
    /** What changed since 0.17 that touches the probes, and what exetrace does about it. */
    changes: DialectChange[];
    /** How bpftrace's output rings will wake it (src/trace/wakeup-batching.ts), and why not batched. */
    wakeups: { mode: WakeupMode; reason: string | null };
  };
  /** exec's point-of-no-return function (kfunc/kprobe flavors hook it), from BTF or kallsyms. */
  execEntry: { function: string | null; source: string | null; note: string | null };
  /** One trial per flavor: does a tiny program of that probe type load here? */
  trials: Record<Flavor, { loads: boolean | null; reason: string; detects: FindingClass[] }>;
  auto: { flavor: Flavor | null; reason: string };
  problems: string[];
}

export async function buildDoctorReport(): Promise<DoctorReport> {
  const problems: string[] = [];
  const root = isRoot();
  const lock = lockdownMode();
  const tracefs = ensureTracefs();
  const bpftracePath = findBpftrace();
  const version = bpftracePath ? bpftraceVersion(bpftracePath) : null;
  if (!root) problems.push('not running as root: bpftrace cannot load programs (run doctor as root to test the flavors)');
  if (!bpftracePath) problems.push('bpftrace not found; apt-get install bpftrace');
  if (!tracefs.ok) problems.push(tracefs.reason);

  const parsed = version?.ok ? parseBpftraceVersion(version.value) : null;
  const wakeups = planWakeups(parsed, ringPages());
  const dialect = dialectFor(parsed);
  let btf: Btf | null = null;
  try {
    btf = Btf.fromFile();
  } catch {
    // Reported as btf: false; kallsyms may still name the exec entry.
  }
  const entry = detectExecEntry(btf);
  const findsBtf = bpftracePath && root ? bpftraceFindsBtf(bpftracePath) : null;
  const btfNote =
    findsBtf?.ok && !findsBtf.value && btfPresent()
      ? 'bpftrace does not find the kernel BTF itself (it needs the kernel_btf flag of Linux 5.11+): exetrace passes BPFTRACE_BTF=/sys/kernel/btf/vmlinux, which serves kprobe; kfunc cannot load (bpftrace needs the BTF object id)'
      : null;

  const trials = {} as DoctorReport['trials'];
  const ran: FlavorTrial[] = [];
  for (const flavor of LADDER) {
    if (!root || !bpftracePath) {
      trials[flavor] = { loads: null, reason: !root ? 'not tried: needs root' : 'not tried: no bpftrace', detects: [] };
      continue;
    }
    const t = await tryFlavor(flavor, { bpftrace: bpftracePath, dialect });
    ran.push(t);
    trials[flavor] = { loads: t.loads, reason: t.reason, detects: detectableHere(flavor, t.loads) };
  }
  let auto: DoctorReport['auto'] = { flavor: null, reason: 'not decided: the trials could not run' };
  if (ran.length > 0) {
    const pick = await pickFlavor('auto', { bpftrace: bpftracePath!, trials: ran, dialect });
    auto = { flavor: pick.chosen, reason: pick.reason };
    if (pick.chosen === null) problems.push(`no flavor can record here: ${pick.reason}`);
  }
  return {
    kernelRelease: release(),
    hostname: hostname(),
    root,
    lockdown: lock.ok ? { mode: lock.value, note: null } : { mode: null, note: lock.reason },
    btf: btfPresent(),
    tracefs: tracefs.ok
      ? { path: tracefs.value.path, mountedNow: tracefs.value.mountedNow, note: null }
      : { path: null, mountedNow: false, note: tracefs.reason },
    kprobeEvents: kprobeEventsPresent(tracefs.ok ? tracefs.value.path : null),
    bpftrace: {
      path: bpftracePath,
      version: version?.ok ? version.value : null,
      note:
        version && !version.ok
          ? version.reason
          : bpftracePath
            ? [unprovenNote(parsed), btfNote].filter((n) => n !== null).join('; ') || null
            : 'bpftrace not found; apt-get install bpftrace',
      findsBtf: findsBtf?.ok ? findsBtf.value : null,
      dialect,
      programs: programRelativePath('kfunc', { ...DEFAULT_VARIANT, dialect }).replace(/kfunc\.bt$/, ''),
      changes: changesFor(parsed),
      wakeups: { mode: wakeups.mode, reason: wakeups.reason },
    },
    execEntry: entry.ok
      ? {
          function: entry.fn,
          source: entry.source,
          note:
            entry.fn === 'flush_old_exec'
              ? 'flush_old_exec programs (probes/**/flush_old_exec/) are generated and unit-tested only: no kernel before 5.8 was available to prove them live'
              : null,
        }
      : { function: null, source: null, note: entry.reason },
    trials,
    auto,
    problems,
  };
}

const yesNo = (b: boolean | null): string => (b === null ? 'unknown' : b ? 'yes' : 'no');

export function formatDoctor(r: DoctorReport): string {
  const rows: [string, string][] = [
    ['kernel', r.kernelRelease],
    ['root', yesNo(r.root)],
    ['lockdown', r.lockdown.mode ?? `unknown (${r.lockdown.note})`],
    ['BTF (/sys/kernel/btf/vmlinux)', yesNo(r.btf)],
    ['tracefs', r.tracefs.path ? `${r.tracefs.path}${r.tracefs.mountedNow ? ' (mounted now)' : ''}` : `missing (${r.tracefs.note})`],
    ['kprobe_events', yesNo(r.kprobeEvents)],
    ['bpftrace', r.bpftrace.path ? `${r.bpftrace.path} ${r.bpftrace.version ?? `(${r.bpftrace.note})`}` : 'not found'],
    ['bpftrace language', `${r.bpftrace.dialect} (programs in ${r.bpftrace.programs})${r.bpftrace.version && r.bpftrace.note ? `; ${r.bpftrace.note}` : ''}`],
    ...r.bpftrace.changes.map((c): [string, string] => [`  since ${c.since}`, `${c.change} -> ${c.handling}`]),
    ['output wakeups', r.bpftrace.wakeups.mode === 'batched' ? 'batched (watermark and a 20 ms poll)' : `per event: ${r.bpftrace.wakeups.reason ?? ''}`],
    [
      'exec entry function',
      r.execEntry.function
        ? `${r.execEntry.function} (from ${r.execEntry.source})${r.execEntry.note ? `; ${r.execEntry.note}` : ''}`
        : `unknown (${r.execEntry.note})`,
    ],
    ['kfunc (fentry) loads', `${yesNo(r.trials.kfunc.loads)}: ${r.trials.kfunc.reason}`],
    ['kprobe loads', `${yesNo(r.trials.kprobe.loads)}: ${r.trials.kprobe.reason}`],
    ['tracepoint loads', `${yesNo(r.trials.tracepoint.loads)}: ${r.trials.tracepoint.reason}`],
    ...LADDER.map((f): [string, string] => [`${f} detects here`, r.trials[f].detects.length > 0 ? r.trials[f].detects.join(', ') : 'nothing (does not load)']),
    ['auto picks', r.auto.flavor ? `${r.auto.flavor}: ${r.auto.reason}` : `nothing: ${r.auto.reason}`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const out = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
  for (const p of r.problems) out.push(`problem: ${p}`);
  return out.join('\n');
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('Report what this host can trace and which probe flavor `auto` picks (tries each one).')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', EXAMPLES)
    .action(async (opts: { json?: boolean }) => {
      const report = await buildDoctorReport();
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatDoctor(report)}\n`);
      if (!report.root) process.stderr.write('exetrace: doctor needs root to try the probe flavors (try: sudo exetrace doctor)\n');
      process.exitCode = report.auto.flavor !== null && report.problems.length === 0 ? 0 : 1;
    });
}
