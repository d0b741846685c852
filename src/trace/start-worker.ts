// A worker thread running the module `name` that sits next to the caller's module: its built
// JavaScript, or its TypeScript source under tsx when the caller itself runs from source (tests).
import { Worker } from 'node:worker_threads';

/**
 * The workers stream: little lives long in them. V8 would let each one's young generation grow
 * to 48 MiB: with three threads, replay of a 10M-event trace peaked at 293 MB RSS (16 MiB: 265
 * MB, as fast; 8 MiB: half as much GC again in the printer).
 */
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 16 };

export function startWorker(callerUrl: string, name: string, workerData: unknown): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), { workerData, resourceLimits: RESOURCE_LIMITS });
  const source = new URL(`./${name}.ts`, callerUrl).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(boot, { eval: true, workerData, resourceLimits: RESOURCE_LIMITS });
}
