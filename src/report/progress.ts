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
  /** Reading of files[index] begins. */
  file(index: number): void;
  /** After each batch: the current file's model state. */
  update(state: ModelState): void;
  stop(): void;
}

const NO_PROGRESS: ReadProgress = { file: () => undefined, update: () => undefined, stop: () => undefined };

function humanBytes(n: number): string {
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

/** A progress bar over `files`, or one that does nothing when `stream` is not a terminal. */
export function readProgress(files: readonly string[], stream: NodeJS.WritableStream): ReadProgress {
  if ((stream as NodeJS.WriteStream).isTTY !== true) return NO_PROGRESS;
  const sizes = files.map(sizeOf);
  const total = Math.max(
    1,
    sizes.reduce((a, b) => a + b, 0),
  );
  const bar = new SingleBar({
    stream: stream as NodeJS.WriteStream,
    format: '{bar} {percentage}% | {bytes} of {size} | {events} events | {findings} findings | ETA {eta_formatted} | {file}',
    barsize: 30,
    hideCursor: true,
    etaBuffer: 50,
    linewrap: false,
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
  bar.start(total, 0, { bytes: humanBytes(0), size: humanBytes(total), events: 0, findings: 0, file: '' });
  return {
    file(i) {
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
    update(state) {
      current = state;
      const now = Date.now();
      if (now - lastLook < LOOK_EVERY_MS) return;
      lastLook = now;
      const pos = position?.read() ?? null;
      if (pos !== null) done = before + Math.min(pos, sizes[index] ?? pos);
      draw();
    },
    stop() {
      done = total;
      draw();
      bar.stop();
    },
  };
}
