// A reader that goes away (`| head`, `less` then q, a closed socket) is a normal end, as for any
// Unix tool: no stack trace, exit 0. Node ignores SIGPIPE, so the close arrives as an EPIPE
// 'error' on stdout (or stderr); without a listener that is an uncaught exception. Commands
// that hold something to finish (a recording's trailer, a temporary file) register a cleanup,
// which runs before the exit.

/** Error codes that mean "the other end is gone", not "the disk failed". */
const READER_GONE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED']);

type Cleanup = () => Promise<void> | void;
const cleanups = new Set<Cleanup>();
let closing = false;

const isReaderGone = (err: unknown): boolean => READER_GONE.has((err as NodeJS.ErrnoException | null)?.code ?? '');

/** Run `fn` before the process ends because its output was closed; returns the unregister call. */
export function onOutputClosed(fn: Cleanup): () => void {
  cleanups.add(fn);
  return () => void cleanups.delete(fn);
}

/** Finish what the command holds (a recording's trailer), then exit with `code`. */
async function end(code: number, exit: (code: number) => void): Promise<void> {
  if (closing) return;
  closing = true;
  for (const fn of [...cleanups]) {
    try {
      await fn();
    } catch {
      // nowhere left to report it: the output is gone
    }
  }
  exit(code);
}

/**
 * Install the handlers on the process's stdout and stderr. Any other write error on them (EIO,
 * ENOSPC when redirected to a full disk) is reported on stderr, in one line, with exit 1.
 */
export function endQuietlyWhenOutputCloses(
  streams: NodeJS.WriteStream[] = [process.stdout, process.stderr],
  exit = (code: number) => process.exit(code),
): void {
  for (const stream of streams) {
    stream.on('error', (err: Error) => {
      if (isReaderGone(err)) {
        void end(0, exit);
        return;
      }
      if (!closing && stream !== process.stderr) process.stderr.write(`exetrace: writing stdout failed: ${err.message}\n`);
      void end(1, exit);
    });
  }
}
