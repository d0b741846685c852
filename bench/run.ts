// `npm run bench`: every benchmark, each reported as ratios measured within this one run.
import { runDecoderBench } from './decoder.bench.js';
import { runModelBench } from './model.bench.js';
import { runOverheadBench } from './overhead.bench.js';

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

const dec = runDecoderBench();
console.log(`decoder: ${dec.lines} bpftrace lines -> ${dec.events} events (${dec.issues} issues)`);
console.log(`  decoding costs ${dec.decodeToParseCost.toFixed(2)}x a bare JSON.parse of the same lines (${Math.round(dec.decodeLinesPerSec)} lines/s in this run)`);

const model = runModelBench();
console.log(`model: ${model.events} events, ${model.findings} findings (0 expected: ordinary workload)`);
console.log(`  reduce runs at ${model.reduceToParseRatio.toFixed(2)}x the speed of JSON.parse of the same lines (${Math.round(model.reduceEventsPerSec)} events/s in this run)`);
console.log(`  heap per live mm: ${Number.isNaN(model.heapBytesPerLiveMm) ? 'n/a (needs --expose-gc)' : `${Math.round(model.heapBytesPerLiveMm)} bytes`} over ${model.liveMms} live mms`);

if (process.getuid?.() === 0) {
  try {
    const o = await runOverheadBench();
    console.log(`overhead: exec rate with \`exetrace record\` attached = ${pct(o.tracedToBaseRatio)} of the untraced rate`);
    console.log(`  (${o.rounds} alternating rounds of ${o.execsPerRound} execs; ${o.eventsRecorded} trace lines recorded)`);
  } catch (err) {
    console.log(`overhead: not measured: ${(err as Error).message}`);
  }
} else {
  console.log('overhead: not measured (needs root and bpftrace)');
}
