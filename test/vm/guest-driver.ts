// Runs inside the guest (bundled by harness.ts into one .mjs with esbuild, so no tsx there):
// doctor, then a recording around the scenario lab with each flavor. Everything lands in
// /results, which guest-init.sh sends back over ttyS1; the host does the asserting.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { recordAroundLab } from './lab-recording.js';

const CLI = '/opt/exetrace/dist/src/cli/main.js';
const RESULTS = '/results';
const progress = (msg: string): void => appendFileSync('/dev/ttyS1', `@@LOG ${msg.replace(/[^\x20-\x7e]/g, '?')}\n`);

progress('doctor');
const doctor = spawnSync(process.execPath, [CLI, 'doctor', '--json'], { encoding: 'buffer' });
writeFileSync(`${RESULTS}/doctor.json`, doctor.stdout ?? Buffer.alloc(0));
writeFileSync(`${RESULTS}/doctor.err`, Buffer.concat([doctor.stderr ?? Buffer.alloc(0), Buffer.from(`\nrc ${doctor.status}\n`)]));
/** Ships finished results now (guest-init.sh's send_result), so a later hang loses nothing. */
const ship = (...names: string[]): void => {
  for (const n of names) spawnSync('sh', ['-c', '. /etc/guest-lib.sh; send_result "$1"', 'sh', `${RESULTS}/${n}`], { stdio: 'ignore' });
};
ship('doctor.json', 'doctor.err');
// The tracepoint flavor too where tracepoint.bt loads (sched_process_exit's group_dead: 6.16+),
// as a control recorded under the same slow TCG timing; the host's run stays the reference.
const exitFormat = '/sys/kernel/tracing/events/sched/sched_process_exit/format';
const control = existsSync(exitFormat) && readFileSync(exitFormat, 'utf8').includes('group_dead') ? ['tracepoint'] : [];
for (const flavor of ['kfunc', 'kprobe', ...control]) {
  await recordAroundLab(CLI, flavor, RESULTS, progress);
  ship(`${flavor}.scenarios.json`, `${flavor}.record.log`, `${flavor}.trace.jsonl`);
}
