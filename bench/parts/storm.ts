// 1. Loss at the top exec rate: 2 and 4 parallel loops of a fresh copy of /bin/true under
// `exetrace record` and `exetrace live` off a TTY; loops end, 3 s drain, SIGINT (exec-storm.sh).
import { countTrace } from '../trace-count.js';
import { startTracer, type TracerKind } from '../tracers.js';
import { fmt, int, sleep } from '../stats.js';
import { runLoops } from '../workload.js';
import type { Ctx, PartResult, TargetRow } from '../context.js';

export async function stormPart(ctx: Ctx): Promise<PartResult> {
  const { stormExecs: total, stormLoops } = ctx.opts;
  const rows: string[] = [
    '| tracer | loops × execs | exec rate /s | execs in trace | lostEvents | parseIssues | trace lines | CPU µs/exec (tracer tree) | exit |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const targets: TargetRow[] = [];
  for (const loops of stormLoops) {
    for (const kind of ['record', 'live'] as TracerKind[]) {
      const per = Math.ceil(total / loops);
      const n = per * loops;
      ctx.log(`storm: ${kind}, ${loops} loops × ${per}`);
      const s = await startTracer(kind, { dir: ctx.dir, name: `storm-${kind}-${loops}`, marker: ctx.bins.marker });
      await sleep(1000);
      const c0 = s.cpu();
      const secs = await runLoops(ctx.bins.dynamic, loops, per);
      await sleep(3000);
      const c1 = s.cpu();
      const code = await s.stop(180_000);
      const c = await countTrace(s.output, ctx.bins.dynamic);
      const t = c.trailer;
      rows.push(
        `| ${kind} | ${loops} × ${per} | ${int(n / secs)} | ${int(c.execs)} / ${int(n)} (${fmt((100 * c.execs) / n, 1)}%) | ${t ? int(t.lostEvents) : 'no trailer'} | ${t ? int(t.parseIssues) : 'no trailer'} | ${int(c.lines)} | ${int(((c1.stat - c0.stat) / n) * 1e6)} | ${code} |`,
      );
      const ok = t !== null && t.lostEvents === 0 && t.parseIssues === 0 && c.execs === n;
      targets.push({
        figure: `1. ${kind}, ${loops} loops: execs in trace, lost, parse issues`,
        result: `${int(c.execs)}/${int(n)} execs, ${t ? int(t.lostEvents) : '?'} lost, ${t ? int(t.parseIssues) : '?'} parse issues`,
        target: 'every exec, 0 lost, 0 parse issues',
        met: ok,
        ...(ok
          ? {}
          : {
              note: `${int(n - c.execs)} execs missing; the tracer tree used ${int(((c1.stat - c0.stat) / n) * 1e6)} µs CPU per exec at ${int(n / secs)} execs/s on 2 cores (see 2., 3.): the reader falls behind and bpftrace's rings overflow`,
            }),
      });
    }
  }
  return {
    id: 'storm',
    title: '1. Loss at the top exec rate',
    body:
      `${total} execs in total per run, split over the parallel \`sh\` loops of a fresh copy of /bin/true. ` +
      'Tracer started, attach proven by a marker exec appearing in the trace, 1 s settle, loops, 3 s drain, SIGINT (the exec-storm.sh procedure). ' +
      '`live` runs off a TTY (`live --record TRACE`, stdout to a file). "execs in trace" counts `"kind":"exec"` lines whose exe or filename is the copy.\n\n' +
      rows.join('\n'),
    targets,
  };
}
