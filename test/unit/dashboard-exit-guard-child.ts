// Child process for dashboard-exit-guard.test.ts: installs the exit guard with a session whose
// stop() hangs until kill() is called, and a stderr that fails like a hung-up terminal (EIO
// on every write), then crashes. Prints what the guard did on stdout, one word a line.
import { Writable } from 'node:stream';
import { installExitGuard } from '../../dashboards/exit-guard.js';

const say = (word: string): void => void process.stdout.write(`${word}\n`);
const hungUpTerminal = new Writable({
  write(_chunk, _enc, callback) {
    callback(Object.assign(new Error('write EIO'), { code: 'EIO' }));
  },
});
let killed!: () => void;
const gone = new Promise<void>((r) => (killed = r));
installExitGuard({
  restore: () => say('restore'),
  stop: async () => {
    say('stop');
    await gone; // bpftrace ignoring SIGINT: only the kill ends it
    say('stopped');
  },
  kill: () => {
    say('kill');
    setTimeout(killed, 100);
  },
  killAfterMs: 300,
  stopTimeoutMs: 3000,
  stderr: hungUpTerminal,
});
process.on('exit', (code) => say(`exit ${code}`));
setInterval(() => {}, 1000); // the dashboard would keep the loop alive
setImmediate(() => {
  throw new Error('injected crash');
});
