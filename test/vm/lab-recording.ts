// One recording around some work: `exetrace record --flavor F --out FILE`, wait until the probes
// are attached, run the work (the scenario lab, or a script for `npm run vm`), stop with SIGINT.
// Shared by the guest driver and the host's tracepoint baseline, so both sides record the same way.
import { spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { runAllScenarios, type ScenarioId } from '../lab/scenarios.js';

export interface LabRecording {
  flavor: string;
  attachS: number;
  recorderRc: number;
  runs: { id: string; expectedClass: string | null; pid: number }[] | null;
  labError: string | null;
  traceBytes: number | null;
}

interface Recorded<T> {
  attachS: number;
  recorderRc: number;
  /** The work's result, or null when the recorder died before attaching or the work threw. */
  result: T | null;
  error: string | null;
}

/** Records to `out` around `work`; the recorder's stdout and stderr go to `logFile`. */
export async function recordAround<T>(
  cli: string,
  flavor: string,
  out: string,
  logFile: string,
  work: () => Promise<T>,
  progress: (msg: string) => void = () => {},
  attachTimeoutMs = 900_000,
): Promise<Recorded<T>> {
  progress(`${flavor}: starting exetrace record`);
  const log: Buffer[] = [];
  const rec = spawn(process.execPath, [cli, 'record', '--flavor', flavor, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  rec.stdout.on('data', (b: Buffer) => log.push(b));
  rec.stderr.on('data', (b: Buffer) => log.push(b));
  let dead = false;
  const exited = new Promise<number>((r) =>
    rec.on('close', (c) => {
      dead = true;
      r(c ?? -1);
    }),
  );
  // The recorder says when its probes are attached; under TCG on a busy host that took up to 5 min.
  const t0 = Date.now();
  while (!dead && Date.now() - t0 < attachTimeoutMs && !/attached/i.test(Buffer.concat(log).toString())) {
    await new Promise((r) => setTimeout(r, 250));
  }
  const attachS = (Date.now() - t0) / 1000;
  const attached = /attached/i.test(Buffer.concat(log).toString());
  progress(`${flavor}: ${attached ? 'attached' : dead ? 'recorder exited' : 'NOT attached'} after ${attachS.toFixed(1)} s`);
  let result: T | null = null;
  let error: string | null = null;
  if (!attached && !dead) {
    // Work done before the probes are in place would prove nothing.
    error = `the recorder did not attach within ${attachTimeoutMs / 1000} s`;
    rec.kill('SIGINT');
  } else if (!dead) {
    try {
      result = await work();
    } catch (e) {
      error = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
    }
    await new Promise((r) => setTimeout(r, 2000));
    rec.kill('SIGINT');
  }
  const recorderRc = await exited;
  writeFileSync(logFile, Buffer.concat(log));
  return { attachS, recorderRc, result, error };
}

export async function recordAroundLab(
  cli: string,
  flavor: string,
  outDir: string,
  progress: (msg: string) => void = () => {},
  only?: ScenarioId[],
  attachTimeoutMs = 900_000,
): Promise<LabRecording> {
  const out = `${outDir}/${flavor}.trace.jsonl`;
  const r = await recordAround(
    cli,
    flavor,
    out,
    `${outDir}/${flavor}.record.log`,
    async () => {
      const runs = (await runAllScenarios({ holdMs: 1500, ...(only ? { only } : {}) })).map((s) => ({ id: s.id, expectedClass: s.expectedClass, pid: s.pid }));
      progress(`${flavor}: lab ran ${runs.length} scenarios`);
      return runs;
    },
    progress,
    attachTimeoutMs,
  );
  if (r.error) progress(`${flavor}: lab failed`);
  const result: LabRecording = {
    flavor,
    attachS: r.attachS,
    recorderRc: r.recorderRc,
    runs: r.result,
    labError: r.error,
    traceBytes: existsSync(out) ? statSync(out).size : null,
  };
  writeFileSync(`${outDir}/${flavor}.scenarios.json`, JSON.stringify(result));
  return result;
}
