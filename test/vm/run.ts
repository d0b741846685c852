// `npm run vm -- --target NAME --flavor F --script FILE --out TRACE`: boots a VM target, runs
// `exetrace record --flavor F` around the shell script (as root in the guest, cwd /tmp), and
// writes the trace to TRACE on the host; the script's output and the recorder's log are printed.
// Reproduces a case on a given kernel; targets are those of test/vm/fetch.ts.
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FLAVORS, type Flavor } from '../../src/trace/trace-format.js';
import { KERNEL_TARGETS, targetNamed } from './fetch.js';
import { runInGuest } from './harness.js';

const USAGE = `usage: npm run vm -- --target NAME --flavor F --script FILE --out TRACE
  --target  ${KERNEL_TARGETS.map((t) => t.name).join(' | ')}
  --flavor  ${FLAVORS.join(' | ')} | auto
  --script  shell script run in the guest while exetrace records (sh, as root, cwd /tmp)
  --out     where the trace goes on this host`;

function fail(msg: string): never {
  process.stderr.write(`npm run vm: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

let values: { target?: string; flavor?: string; script?: string; out?: string };
try {
  ({ values } = parseArgs({
    options: { target: { type: 'string' }, flavor: { type: 'string' }, script: { type: 'string' }, out: { type: 'string' } },
    strict: true,
  }));
} catch (e) {
  fail((e as Error).message);
}
if (!values.target || !values.flavor || !values.script || !values.out) fail('--target, --flavor, --script and --out are all required');
let target;
try {
  target = targetNamed(values.target);
} catch (e) {
  fail((e as Error).message);
}
const flavor = values.flavor as Flavor | 'auto';
if (flavor !== 'auto' && !FLAVORS.includes(flavor)) fail(`unknown flavor ${JSON.stringify(values.flavor)}`);
const script = resolve(values.script);
if (!existsSync(script)) fail(`${script}: no such file`);
const out = resolve(values.out);

const r = await runInGuest(target, { plan: { flavors: [flavor as Flavor], refused: [], script: true }, scriptFile: script });
const summary = JSON.parse(r.files.get('script.json')?.toString() ?? 'null') as {
  recorderRc: number;
  script: { rc: number | null; output: string } | null;
} | null;
process.stdout.write(`--- recorder log (${target.name}, kernel ${r.booted ?? 'did not boot'})\n${r.files.get('script.record.log')?.toString() ?? '(none)'}\n`);
if (summary?.script) process.stdout.write(`--- script output (rc ${summary.script.rc})\n${summary.script.output}\n`);
const trace = r.files.get('script.trace.jsonl');
if (!trace) {
  process.stderr.write(`npm run vm: no trace came back (guest rc ${r.rc}); guest job log:\n${r.files.get('job.log')?.toString() ?? r.console.slice(-2000)}\n`);
  process.exit(1);
}
writeFileSync(out, trace);
process.stdout.write(`--- wrote ${out} (${trace.length} bytes); recorder exited ${summary?.recorderRc}\n`);
process.exitCode = summary?.recorderRc === 0 ? 0 : 1;
