// Runs inside the guest (bundled by harness.ts into one .mjs with esbuild, so no tsx there):
// doctor, then what /opt/exetrace/vm-plan.json asks: a recording around the scenario lab with
// each flavor, an attempt with each flavor that must refuse, or `exetrace record` around a
// given script (npm run vm). Everything lands in /results, which guest-init.sh sends back over
// ttyS1; the host does the asserting.
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { recordAround, recordAroundLab } from './lab-recording.js';
import type { GuestPlan } from './harness.js';

const CLI = '/opt/exetrace/dist/src/cli/main.js';
const RESULTS = '/results';
const progress = (msg: string): void => appendFileSync('/dev/ttyS1', `@@LOG ${msg.replace(/[^\x20-\x7e]/g, '?')}\n`);
const plan = JSON.parse(readFileSync('/opt/exetrace/vm-plan.json', 'utf8')) as GuestPlan;

progress('doctor');
const doctor = spawnSync(process.execPath, [CLI, 'doctor', '--json'], { encoding: 'buffer' });
writeFileSync(`${RESULTS}/doctor.json`, doctor.stdout ?? Buffer.alloc(0));
writeFileSync(`${RESULTS}/doctor.err`, Buffer.concat([doctor.stderr ?? Buffer.alloc(0), Buffer.from(`\nrc ${doctor.status}\n`)]));
/** Ships finished results now (guest-init.sh's send_result), so a later hang loses nothing. */
const ship = (...names: string[]): void => {
  for (const n of names) spawnSync('sh', ['-c', '. /etc/guest-lib.sh; send_result "$1"', 'sh', `${RESULTS}/${n}`], { stdio: 'ignore' });
};
ship('doctor.json', 'doctor.err');

for (const flavor of plan.refused) {
  progress(`${flavor}: must refuse`);
  const r = spawnSync(process.execPath, [CLI, 'record', '--flavor', flavor, '--out', `/tmp/${flavor}.refused.trace.jsonl`], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  writeFileSync(`${RESULTS}/${flavor}.refused.json`, JSON.stringify({ rc: r.status, stdout: r.stdout, stderr: r.stderr }));
  ship(`${flavor}.refused.json`);
}

if (plan.script) {
  const flavor = plan.flavors[0]!;
  await recordAroundScript(flavor);
  ship('script.trace.jsonl', 'script.record.log', 'script.json');
} else {
  for (const flavor of plan.flavors) {
    await recordAroundLab(CLI, flavor, RESULTS, progress, plan.only);
    ship(`${flavor}.scenarios.json`, `${flavor}.record.log`, `${flavor}.trace.jsonl`);
  }
}

/** `exetrace record` until its probes are attached, then the script, then SIGINT. */
async function recordAroundScript(flavor: string): Promise<void> {
  const r = await recordAround(
    CLI,
    flavor,
    `${RESULTS}/script.trace.jsonl`,
    `${RESULTS}/script.record.log`,
    async () => {
      const s = spawnSync('sh', ['/opt/exetrace/vm-script.sh'], { encoding: 'utf8', cwd: '/tmp', timeout: 600_000 });
      return { rc: s.status, output: `${s.stdout}${s.stderr}` };
    },
    progress,
  );
  writeFileSync(`${RESULTS}/script.json`, JSON.stringify({ flavor, recorderRc: r.recorderRc, attachS: r.attachS, script: r.result, error: r.error }));
}
