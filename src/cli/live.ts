// `exetrace live`: trace this host and show it in the dashboard (one line per event/finding
// when stdout is not a terminal). The session is the recorder's: same probes, same stream,
// optionally written to a trace with --record.
import { Option, type Command } from 'commander';
import type { FlavorRequest } from '../trace/flavor-ladder.js';
import { collectFile, loadExceptions, type ExceptionsCliOptions } from './exceptions-option.js';
import { parsePid } from './options.js';
import { sanitize } from '../report/sanitize.js';

interface LiveOptions extends ExceptionsCliOptions {
  flavor: FlavorRequest;
  pid?: number;
  comm?: string;
  record?: string;
  findingsOnly?: boolean;
}

export async function liveCommand(opts: LiveOptions): Promise<number> {
  // A bad exceptions file fails before anything starts, naming the file and the cause.
  let exceptions;
  try {
    exceptions = loadExceptions(opts);
  } catch (err) {
    process.stderr.write(`exetrace: ${sanitize((err as Error).message)}\n`);
    return 2;
  }
  // Loaded on use: other commands and --help do not pay for the pipeline or the UI (ink, React).
  const [{ Recorder }, { runDashboard }, { exetraceModelWith }] = await Promise.all([
    import('../trace/recorder.js'),
    import('../../dashboards/run-dashboard.js'),
    import('../../dashboards/exetrace-model.js'),
  ]);
  return runDashboard({
    model: exetraceModelWith({ exceptions }),
    source: 'live',
    printEvents: opts.findingsOnly !== true,
    // The stop drains the probes first: as long as bpftrace delivers a backlog (seconds when it is
    // behind), then SIGINT, SIGKILL 5 s later. Only a stop stuck past a minute is forced.
    stopBudget: { killAfterMs: 60_000, stopTimeoutMs: 70_000 },
    start(consumer, control) {
      const recorder = new Recorder({
        out: opts.record ?? null,
        flavor: opts.flavor,
        pid: opts.pid ?? null,
        comm: opts.comm ?? null,
        durationMs: null,
        consumers: [consumer],
        onAttached: ({ probes, flavor }) => control.markAttached({ probes, flavor }),
      });
      let finished = false;
      const done = recorder.run().then((result) => {
        finished = true;
        if (result.error === null) return;
        const cause = result.error.cause !== result.error.shortMessage ? `\n  ${result.error.cause.replace(/\n/g, '\n  ')}` : '';
        throw new Error(`${result.error.shortMessage}${cause}`);
      });
      return {
        done,
        // stop() ends bpftrace (SIGINT, then SIGKILL after 5 s) and writes the trailer.
        stop: async () => {
          recorder.stop('signal');
          await done.catch(() => {});
        },
        // Crash or signal and stop() is slow (bpftrace still attaching, or busy detaching).
        kill: () => {
          const pid = recorder.bpftracePid;
          if (pid === undefined || finished) return;
          try {
            process.kill(pid, 'SIGKILL');
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // exited meanwhile
          }
        },
      };
    },
  });
}

export function register(program: Command): void {
  program
    .command('live')
    .description('Trace this host live in a full-screen dashboard (needs root); one line per event when stdout is not a terminal')
    .addOption(new Option('--flavor <flavor>', 'probe flavor').choices(['auto', 'tracepoint', 'kprobe', 'kfunc']).default('auto'))
    .option('-p, --pid <pid>', 'trace only this process (thread group id)', parsePid)
    .option('-c, --comm <comm>', 'trace only processes with this comm (at most 15 bytes)')
    .option('--record <file>', 'also write the trace to this file (mode 0600)')
    .option('--findings-only', 'off a terminal, print findings only instead of every event')
    .option('--exceptions <file>', 'exception rules that label findings expected (repeatable; docs/exceptions.md)', collectFile)
    .option('--no-default-exceptions', 'do not apply the shipped list (config/default-exceptions.json)')
    .addHelpText(
      'after',
      `
Keys: j/k or arrows move, Enter details, Esc back, s sort, f filter, p pause, q quit, Ctrl-C quits.

Examples:
  exetrace live                                   # everything on this host
  exetrace live -c nginx --record nginx.trace     # only nginx, and keep a trace
  exetrace live --findings-only | tee findings.log   # no dashboard: one line per finding`,
    )
    .action(async (opts: LiveOptions) => {
      process.exitCode = await liveCommand(opts);
    });
}
