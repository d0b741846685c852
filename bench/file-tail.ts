// Follow a file another process is writing: new text since the last look, and its line count.
import { closeSync, openSync, readSync } from 'node:fs';

export class FileTail {
  private offset = 0;
  lines = 0;
  constructor(readonly path: string) {}

  /** Text appended since the last call ('' if none or the file does not exist yet). */
  read(): string {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return '';
    }
    try {
      const chunks: Buffer[] = [];
      const buf = Buffer.allocUnsafe(1 << 20);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        const c = Buffer.from(buf.subarray(0, n));
        for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) this.lines++;
        chunks.push(c);
      }
      return Buffer.concat(chunks).toString('latin1');
    } finally {
      closeSync(fd);
    }
  }
}
