// 8. The cost of --publish: interleaved rounds of `record --out` and `record --out --publish`
// to a local nats-server (JetStream, temp store) under the storm's exec loops. Loss is counted
// twice for the publishing recorder: execs in its trace file and execs in what the stream gives
// back (the fleet stream reader, exactly-once view). Ratios: CPU per exec and exec rate.
import { parseNatsAddress } from '../../src/fleet/connection.js';
import { readFleetStream } from '../../src/fleet/stream-reader.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { countTrace } from '../trace-count.js';
import { startNatsServer } from '../nats-server.js';
import { fmt, int, median, sleep } from '../stats.js';
import { startTracer, type TracerKind } from '../tracers.js';
import { runLoops } from '../workload.js';
import type { Ctx, PartResult, TargetRow } from '../context.js';

interface Round {
  kind: TracerKind;
  rate: number;
  cpuPerExec: number;
  fileExecs: number;
  lost: number | null;
  streamExecs: number | null;
  streamErrors: number | null;
}

const isExecOf = (e: TraceEvent, bin: string): boolean => e.kind === 'exec' && (e.filename === bin || e.exe?.path === bin);

/** Execs of `bin` in one host's stream, and the error records the reader made (holes, bad lines). */
async function countStream(url: string, bin: string): Promise<{ execs: number; errors: number }> {
  let execs = 0;
  let errors = 0;
  await readFleetStream({
    address: parseNatsAddress(url, { allowHostname: true }),
    security: {},
    follow: false,
    open: () => ({
      push: (batch) => {
        for (const r of batch) {
          if (r.type === 'event' && isExecOf(r.event, bin)) execs++;
          else if (r.type === 'error') errors++;
        }
      },
      end: () => {},
    }),
    onProblem: () => errors++,
  });
  return { execs, errors };
}

export async function publishPart(ctx: Ctx): Promise<PartResult> {
  const total = ctx.opts.publishExecs;
  const loops = 2;
  const per = Math.ceil(total / loops);
  const n = per * loops;
  const nats = await startNatsServer(ctx.dir);
  const rounds: Round[] = [];
  try {
    for (let r = 0; r < ctx.opts.publishRounds; r++) {
      for (const kind of ['record', 'publish'] as TracerKind[]) {
        ctx.log(`publish: round ${r + 1} ${kind}, ${loops} loops × ${per}`);
        const hostname = `bench-publish-${r}`;
        const s = await startTracer(kind, { dir: ctx.dir, name: `publish-${kind}-${r}`, marker: ctx.bins.marker, publish: { url: nats.url, hostname } });
        await sleep(1000);
        const c0 = s.cpu();
        const secs = await runLoops(ctx.bins.dynamic, loops, per);
        await sleep(3000);
        const c1 = s.cpu();
        await s.stop(180_000);
        const c = await countTrace(s.output, ctx.bins.dynamic);
        const stream = kind === 'publish' ? await countStream(`${nats.url}/${hostname}`, ctx.bins.dynamic) : null;
        rounds.push({
          kind,
          rate: n / secs,
          cpuPerExec: (c1.stat - c0.stat) / n,
          fileExecs: c.execs,
          lost: c.trailer?.lostEvents ?? null,
          streamExecs: stream?.execs ?? null,
          streamErrors: stream?.errors ?? null,
        });
      }
    }
  } finally {
    await nats.stop();
  }
  const pick = (kind: TracerKind, f: (r: Round) => number) => median(rounds.filter((r) => r.kind === kind).map(f));
  const cpuRatio = pick('publish', (r) => r.cpuPerExec) / pick('record', (r) => r.cpuPerExec);
  const rateRatio = pick('record', (r) => r.rate) / pick('publish', (r) => r.rate);
  const rows = [
    '| round | tracer | exec rate /s | execs in trace | lostEvents | execs in stream | stream errors | CPU µs/exec |',
    '|---|---|---|---|---|---|---|---|',
    ...rounds.map(
      (r, i) =>
        `| ${(i >> 1) + 1} | ${r.kind} | ${int(r.rate)} | ${int(r.fileExecs)} / ${int(n)} | ${r.lost ?? 'no trailer'} | ${r.streamExecs === null ? '-' : `${int(r.streamExecs)} / ${int(n)}`} | ${r.streamErrors ?? '-'} | ${fmt(r.cpuPerExec * 1e6, 0)} |`,
    ),
  ];
  const pub = rounds.filter((r) => r.kind === 'publish');
  const lossless = pub.every((r) => r.fileExecs === n && r.lost === 0 && r.streamExecs === n && r.streamErrors === 0);
  const targets: TargetRow[] = [
    {
      figure: '8. record --publish at the storm rate: execs in trace and in stream, lost',
      result: pub.map((r) => `${int(r.fileExecs)} file / ${int(r.streamExecs ?? 0)} stream of ${int(n)}, ${r.lost ?? '?'} lost`).join('; '),
      target: 'every exec in both, 0 lost',
      met: lossless,
    },
    { figure: '8. CPU per exec, publish / record', result: fmt(cpuRatio), target: '(reported)', met: null },
    { figure: '8. exec rate, record / publish', result: fmt(rateRatio), target: '(reported)', met: null },
  ];
  return {
    id: 'publish',
    title: '8. Publishing to NATS JetStream',
    body:
      `${ctx.opts.publishRounds} interleaved rounds (record, record --publish, …) against a local \`nats-server -js\`; ${loops} parallel \`sh\` loops of ${int(per)} execs of a fresh /bin/true copy, 1 s settle, 3 s drain, SIGINT (the publisher then waits for JetStream's last acknowledgements). ` +
      `"execs in stream" is what the fleet stream reader hands out for that recording (duplicates dropped, holes reported as stream errors). CPU = utime+stime of the tracer tree over the loops and drain.\n\n` +
      `${rows.join('\n')}\n\nCPU per exec, publish / record: **${fmt(cpuRatio)}**; exec rate, record / publish: **${fmt(rateRatio)}**.`,
    targets,
  };
}
