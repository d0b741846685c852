// Write a synthetic trace: node dist/bench/gen-cli.js FILE LIFECYCLES [LIVE_MMS]
import { writeSyntheticTrace } from './trace-source.js';

const [path, lifecycles, live] = process.argv.slice(2);
if (!path || !lifecycles) {
  process.stderr.write('usage: gen-cli FILE LIFECYCLES [LIVE_MMS]\n');
  process.exit(2);
}
const n = await writeSyntheticTrace(path, { lifecycles: Number(lifecycles), liveMms: Number(live ?? 0) });
process.stdout.write(`${n} events\n`);
