// 6. Heap per live mm: N mms exec'd and never torn down, reduced in-process (the reducer is pure),
// events parsed from JSON lines as a trace reader would hand them over; heapUsed after a forced
// GC, minus before, over N. Needs node --expose-gc (npm run bench passes it).
import { fmt, int } from '../stats.js';
import { syntheticEvents, syntheticSourceName } from '../trace-source.js';
import type { Ctx, PartResult } from '../context.js';

interface ModelApi {
  initialState(): unknown;
  reduce(state: unknown, event: unknown): unknown;
}

export async function heapPart(ctx: Ctx): Promise<PartResult> {
  const spec = '../../src/model/index.js';
  const model = (await import(spec)) as Partial<ModelApi>;
  if (typeof model.initialState !== 'function' || typeof model.reduce !== 'function')
    throw new Error('src/model/index.js no longer exports initialState() and reduce()');
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('needs node --expose-gc');
  const n = ctx.opts.liveMms;
  ctx.log(`heap: ${int(n)} live mms`);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  let state = model.initialState();
  for await (const e of syntheticEvents({ lifecycles: 0, liveMms: n })) state = model.reduce(state, JSON.parse(JSON.stringify(e)));
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  const held = (state as { mms?: { size?: number } }).mms?.size;
  const per = (after - before) / n;
  return {
    id: 'heap',
    title: '6. Heap per live mm',
    body:
      `${int(n)} mms from ${await syntheticSourceName()} (live mode: fork, mm_attach, exec_begin, mm_exit of the fork's mm, exec, 3 mmaps; never torn down) reduced in this process; ` +
      `heapUsed after gc() minus before, over ${int(n)}. The state reports ${held === undefined ? 'no mms map' : `${int(held)} mms held`}.\n\n**${fmt(per, 0)} bytes per live mm.**`,
    targets: [
      {
        figure: '6. heap per live mm',
        result: `${int(per)} bytes`,
        target: '≤ 2 KB (2,048 bytes)',
        met: per <= 2048,
        ...(per <= 2048 ? {} : { note: 'what src/model keeps per mm (its state, VMA set and history); this figure does not break it down' }),
      },
    ],
  };
}
