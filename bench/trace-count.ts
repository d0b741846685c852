// Read back a recorded trace: exec events of one binary, and the trailer's loss counters.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface TraceCount {
  lines: number;
  /** `"kind":"exec"` events whose exe path or filename is the binary. */
  execs: number;
  trailer: { events: number; lostEvents: number; parseIssues: number; reason: string } | null;
  /** Lines that are not JSON (a broken trace). */
  badLines: number;
}

export async function countTrace(path: string, bin: string): Promise<TraceCount> {
  const r: TraceCount = { lines: 0, execs: 0, trailer: null, badLines: 0 };
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) {
    r.lines++;
    if (line.includes('"kind":"exec"')) {
      try {
        const e = JSON.parse(line) as { kind?: string; filename?: string; exe?: { path?: string | null } | null };
        if (e.kind === 'exec' && (e.filename === bin || e.exe?.path === bin)) r.execs++;
      } catch {
        r.badLines++;
      }
    } else if (line.includes('"exetrace-trailer"')) {
      try {
        r.trailer = JSON.parse(line) as TraceCount['trailer'];
      } catch {
        r.badLines++;
      }
    }
  }
  return r;
}
