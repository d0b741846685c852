// The floor the analyzer is measured against: stream the file, split lines, JSON.parse each.
// node dist/bench/parse-lines.js FILE   (prints the number of lines parsed)
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

let n = 0;
const rl = createInterface({ input: createReadStream(process.argv[2]!), crlfDelay: Infinity });
for await (const line of rl) {
  JSON.parse(line);
  n++;
}
process.stdout.write(`${n}\n`);
