// The progress bar of `analyze` and `export`: bytes read of the trace files, events and findings
// so far, and an ETA, on stderr, only when stderr is a terminal (never on stdout, never in a pipe).
// Bytes read are the kernel's file position of the reader's descriptor (/proc/self/fdinfo): the
// trace reader owns the file and its decompression, and the position is in the same unit as the
// file size whether the file is plain or gzip.
import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import type { ModelState } from '../model/index.js';
import { sanitize } from './sanitize.js';

/** Redraw at most this often: reading fdinfo is a syscall per look. */
const LOOK_EVERY_MS = 100;

export interface ReadProgress {
  /** Reading of files[index] begins (the bar comes back if paused). */
  file(index: number): void;
  /** About to write the report: when the report goes to the same terminal, the bar leaves the screen first. */
  pause(): void;
  /** After each batch: the current file's model state. */
  update(state: ModelState): void;
  stop(): void;
}

/** No bar. */
export const NO_PROGRESS: ReadProgress = { file: () => undefined, pause: () => undefined, update: () => undefined, stop: () => undefined };

/** 1023 B, 1.0 KiB, 3.2 MiB: as the bar shows sizes. */
export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** The read position of this process's descriptor open on `path`, or null when none is (yet). */
class FilePosition {
  private fd: string | null = null;
  private readonly target: string | null;

  constructor(path: string) {
    let target: string | null = null;
    try {
      target = realpathSync(path);
    } catch {
      // unreadable: the reader will say why
    }
    this.target = target;
  }

  private find(): string | null {
    if (this.target === null) return null;
    try {
      for (const fd of readdirSync('/proc/self/fd')) {
        try {
          if (readlinkSync(`/proc/self/fd/${fd}`) === this.target) return fd;
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // no procfs
    }
    return null;
  }

  read(): number | null {
    for (let attempt = 0; attempt < 2; attempt++) {
      // A descriptor number can be reused once the reader closes it: check it still names the file.
      if (this.fd !== null) {
        try {
          if (readlinkSync(`/proc/self/fd/${this.fd}`) === this.target) {
            const m = /^pos:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${this.fd}`, 'utf8'));
            if (m) return Number(m[1]);
          }
        } catch {
          // closed
        }
      }
      this.fd = this.find();
      if (this.fd === null) return null;
    }
    return null;
  }
}

const sizeOf = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

const isTTY = (s: NodeJS.WritableStream | undefined): boolean => (s as NodeJS.WriteStream | undefined)?.isTTY === true;

/**
 * A progress bar over `files` on `stream`, or one that does nothing when `stream` is not a
 * terminal. `report` is where the report goes: when it is a terminal too, pause() clears the bar
 * so the two never share a line.
 */
export function readProgress(files: readonly string[], stream: NodeJS.WritableStream, report?: NodeJS.WritableStream): ReadProgress {
  if (!isTTY(stream)) return NO_PROGRESS;
  const shared = isTTY(report);
  const sizes = files.map(sizeOf);
  const total = Math.max(
    1,
    sizes.reduce((a, b) => a + b, 0),
  );
  const bar = new SingleBar({
    stream: stream as NodeJS.WriteStream,
    format: '{bar} {percentage}% | {bytes} of {size} | {events} events | {findings} findings | ETA {eta_formatted} | {file}',
    barsize: 30,
    // A hidden cursor would need a SIGINT handler to restore it, and that handler would keep Ctrl-C from ending the run.
    hideCursor: false,
    clearOnComplete: shared,
    etaBuffer: 50,
    // true: cli-progress trims the line to the width itself instead of turning the terminal's
    // autowrap off, which a Ctrl-C would leave off.
    linewrap: true,
  });
  let index = 0;
  let before = 0;
  let position: FilePosition | null = null;
  let lastLook = 0;
  let done = 0;
  // Counts of the files already read, and the state of the one being read.
  let eventsBefore = 0;
  let findingsBefore = 0;
  let current: ModelState | null = null;
  const events = (): number => eventsBefore + (current?.counters.events ?? 0);
  const findings = (): number => findingsBefore + (current === null ? 0 : current.findings.length + current.findingsDropped);
  const draw = (): void => {
    const name = sanitize(files[index] ?? '');
    bar.update(done, {
      bytes: humanBytes(done),
      size: humanBytes(total),
      events: events(),
      findings: findings(),
      file: files.length > 1 ? `${index + 1}/${files.length} ${name}` : name,
    });
  };
  let running = false;
  const begin = (): void => {
    if (running) return;
    bar.start(total, done, { bytes: humanBytes(done), size: humanBytes(total), events: events(), findings: findings(), file: '' });
    running = true;
  };
  return {
    file(i) {
      begin();
      eventsBefore = events();
      findingsBefore = findings();
      current = null;
      before = sizes.slice(0, i).reduce((a, b) => a + b, 0);
      index = i;
      position = new FilePosition(files[i]!);
      lastLook = 0;
      done = before;
      draw();
    },
    pause() {
      if (!shared || !running) return;
      bar.stop();
      running = false;
    },
    update(state) {
      current = state;
      if (!running) return;
      const now = Date.now();
      if (now - lastLook < LOOK_EVERY_MS) return;
      lastLook = now;
      const pos = position?.read() ?? null;
      if (pos !== null) done = before + Math.min(pos, sizes[index] ?? pos);
      draw();
    },
    stop() {
      if (!running) return;
      done = total;
      draw();
      bar.stop();
      running = false;
    },
  };
}
