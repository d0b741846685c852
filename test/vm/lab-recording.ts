// One recording around the scenario lab: `exetrace record --flavor F --out FILE`, wait until the
// probes are attached, run every scenario, stop with SIGINT. Shared by the guest driver and the
// host's tracepoint baseline, so both sides record the same way.
import { spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { runAllScenarios } from '../lab/scenarios.js';

export interface LabRecording {
  flavor: string;
  attachS: number;
  recorderRc: number;
  runs: { id: string; expectedClass: string | null; pid: number }[] | null;
  labError: string | null;
  traceBytes: number | null;
}

export async function recordAroundLab(
  cli: string,
  flavor: string,
  outDir: string,
  progress: (msg: string) => void = () => {},
  attachTimeoutMs = 300_000,
): Promise<LabRecording> {
  progress(`${flavor}: starting exetrace record`);
  const out = `${outDir}/${flavor}.trace.jsonl`;
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
  // The recorder says when its probes are attached; under TCG that takes about a minute.
  const t0 = Date.now();
  while (!dead && Date.now() - t0 < attachTimeoutMs && !/attached/i.test(Buffer.concat(log).toString())) {
    await new Promise((r) => setTimeout(r, 250));
  }
  const attachS = (Date.now() - t0) / 1000;
  progress(`${flavor}: ${dead ? 'recorder exited' : 'attached'} after ${attachS.toFixed(1)} s`);
  let runs: LabRecording['runs'] = null;
  let labError: string | null = null;
  if (!dead) {
    try {
      runs = (await runAllScenarios({ holdMs: 1500 })).map((r) => ({ id: r.id, expectedClass: r.expectedClass, pid: r.pid }));
    } catch (e) {
      labError = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
    }
    progress(`${flavor}: lab ${labError ? 'failed' : `ran ${runs?.length ?? 0} scenarios`}`);
    await new Promise((r) => setTimeout(r, 2000));
    rec.kill('SIGINT');
  }
  const recorderRc = await exited;
  writeFileSync(`${outDir}/${flavor}.record.log`, Buffer.concat(log));
  const result: LabRecording = { flavor, attachS, recorderRc, runs, labError, traceBytes: existsSync(out) ? statSync(out).size : null };
  writeFileSync(`${outDir}/${flavor}.scenarios.json`, JSON.stringify(result));
  return result;
}
