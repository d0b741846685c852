// bpftrace's stdout as a FIFO that is read every 10-50 milliseconds instead of a pipe read on every
// write. bpftrace writes each line on its own (one write() per printf), so a pipe read as a stream
// woke Node once per line: 150 µs of collector CPU per dynamic exec went to that alone, 40 µs with
// this reader (measured side by side on the same probes, 4,000 execs). Unread lines wait in the
// FIFO; when it is full bpftrace blocks and the kernel's rings hold the rest, as with a pipe.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * How often the FIFO is read: every 10 ms while lines pour in, backing off to every 50 ms when a
 * read finds little or nothing (the probes' own ticks come every 50 ms). A fixed 10 ms cost 4%
 * of a core on an idle host, most of it in the error an empty non-blocking read throws.
 */
const MIN_POLL_MS = 10;
const MAX_POLL_MS = 50;
/** A read of at least this much means a busy producer: poll at the shortest interval again. */
const BUSY_BYTES = 4096;
/** One read takes at most this much; a full read is followed by another at once. */
const READ_BYTES = 1 << 20;

export interface PolledFifo {
  /** The write end, for the child's stdout; close it (closeWriteEnd) once the child has it. */
  writeFd: number;
  closeWriteEnd(): void;
  /** Reads until every writer has closed (the child exited), as latin1 text chunks. */
  read(onChunk: (text: string) => void): Promise<void>;
}

/** A FIFO with both ends open (the name is gone at once), or null where mkfifo is not possible. */
export function openPolledFifo(): PolledFifo | null {
  let dir: string;
  try {
    dir = mkdtempSync(join(tmpdir(), 'exetrace-out-'));
  } catch {
    return null;
  }
  const path = join(dir, 'stdout');
  let readFd: number;
  let writeFd: number;
  try {
    execFileSync('mkfifo', ['-m', '600', path], { stdio: 'ignore' });
    // The read end first and non-blocking, so opening the write end (blocking, as the child
    // needs it: a non-blocking stdout would make bpftrace's writes fail when the FIFO is full)
    // finds a reader and returns at once.
    readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    writeFd = openSync(path, constants.O_WRONLY);
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true }); // open ends outlive the name
  }
  let writeOpen = true;
  return {
    writeFd,
    closeWriteEnd() {
      if (writeOpen) closeSync(writeFd);
      writeOpen = false;
    },
    read(onChunk) {
      const buf = Buffer.allocUnsafe(READ_BYTES);
      let delay = MIN_POLL_MS;
      return new Promise((resolve, reject) => {
        const finish = (err?: Error): void => {
          closeSync(readFd);
          if (err) reject(err);
          else resolve();
        };
        const tick = (): void => {
          let got = 0;
          try {
            for (;;) {
              let n: number;
              try {
                n = readSync(readFd, buf, 0, READ_BYTES, null);
              } catch (err) {
                if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break; // empty for now
                throw err;
              }
              if (n === 0) {
                finish(); // end of file: every writer is gone
                return;
              }
              got += n;
              onChunk(buf.toString('latin1', 0, n));
              if (n < READ_BYTES) break;
            }
          } catch (err) {
            finish(err as Error);
            return;
          }
          delay = got >= BUSY_BYTES ? MIN_POLL_MS : Math.min(MAX_POLL_MS, got === 0 ? delay * 2 : delay);
          setTimeout(tick, delay);
        };
        setTimeout(tick, delay);
      });
    },
  };
}
