// `exetrace live`: trace this host and show it in the dashboard (one line per event/finding
// when stdout is not a terminal). The session is the recorder's: same probes, same stream,
// optionally written to a trace with --record.
import { Option, type Command } from 'commander';
import type { FlavorRequest } from '../trace/flavor-ladder.js';
import { sanitizeForDisplay } from '../../dashboards/sanitize-display.js';
import { startFleetConsumers } from './fleet-consumers.js';
import { addPublishOptions, type PublishCliOptions } from './fleet-options.js';
import { onOutputClosed } from './closed-output.js';
import { loadExceptions, type ExceptionsCliOptions } from './exceptions-option.js';
import { collectFile, parsePid } from './options.js';
import { sanitize } from '../report/sanitize.js';

type LiveOptions = ExceptionsCliOptions & {
  flavor: FlavorRequest;
  pid?: number;
  comm?: string;
  record?: string;
  findingsOnly?: boolean;
  from?: string;
} & PublishCliOptions & { metrics?: { host: string; port: number } };

export async function liveCommand(opts: LiveOptions): Promise<number> {
  // A bad exceptions file fails before anything starts, naming the file and the cause.
  let exceptions;
  try {
    exceptions = loadExceptions(opts);
  } catch (err) {
    process.stderr.write(`exetrace: ${sanitize((err as Error).message)}\n`);
    return 2;
  }
  if (opts.from !== undefined) return (await import('./live-fleet.js')).liveFromFleet(opts.from, opts, exceptions);
  // Loaded on use: other commands and --help do not pay for the pipeline or the UI (ink, React).
  const [{ Recorder }, { runDashboard }, { exetraceModelWith }] = await Promise.all([
    import('../trace/recorder.js'),
    import('../../dashboards/run-dashboard.js'),
    import('../../dashboards/exetrace-model.js'),
  ]);
  const fleet = await startFleetConsumers(opts, (line) => void process.stderr.write(`exetrace: ${sanitizeForDisplay(line)}\n`), { exceptions });
  const code = await runDashboard({
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
        hostname: opts.hostname,
        consumers: [consumer, ...fleet.consumers],
        onAttached: ({ probes, flavor }) => {
          fleet.attached();
          control.markAttached({ probes, flavor });
        },
      });
      let finished = false;
      // Off a terminal, a reader that goes away (`| head`) ends the session like Ctrl-C: drained, trailer written.
      const unregister = onOutputClosed(async () => {
        recorder.stop('signal');
        await done.catch(() => {});
      });
      const done = recorder.run().then((result) => {
        finished = true;
        unregister();
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
  for (const line of await fleet.finish()) process.stderr.write(`exetrace: ${sanitizeForDisplay(line)}\n`);
  return code;
}

export function register(program: Command): void {
  const cmd = program
    .command('live')
    .description('Trace this host live in a full-screen dashboard (needs root); one line per event when stdout is not a terminal')
    .addOption(new Option('--flavor <flavor>', 'probe flavor').choices(['auto', 'tracepoint', 'kprobe', 'kfunc']).default('auto'))
    .option('-p, --pid <pid>', 'trace only this process (thread group id)', parsePid)
    .option('-c, --comm <comm>', 'trace only processes with this comm (at most 15 bytes)')
    .option('--record <file>', 'also write the trace to this file (mode 0600; gzip when it ends in .gz)')
    .option('--findings-only', 'off a terminal, print findings only instead of every event')
    .option('--from <nats-url>', 'watch the fleet instead of this host: nats://HOST:PORT[/HOSTNAME] (no root needed)')
    .option('--exceptions <file>', 'exception rules that label findings expected (repeatable; docs/exceptions.md)', collectFile)
    .option('--no-default-exceptions', 'do not apply the shipped list (config/default-exceptions.json)')
    .addHelpText(
      'after',
      `
Keys: j/k or arrows move, Enter details, Esc back, s sort, f filter, p pause, q quit, Ctrl-C quits.

Examples:
  exetrace live                                   # everything on this host
  exetrace live -c nginx --record nginx.trace     # only nginx, and keep a trace
  exetrace live --findings-only | tee findings.log   # no dashboard: one line per finding
  exetrace live --publish nats://central:4222     # and stream it to the fleet
  exetrace live --from nats://central:4222        # every host that publishes there`,
    );
  addPublishOptions(cmd).action(async (opts: LiveOptions) => {
    process.exitCode = await liveCommand(opts);
  });
}
