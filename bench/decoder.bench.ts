// Decoder throughput, as a ratio to JSON.parse of the same bpftrace output lines (one run).
// The stream mixes the event kinds a busy host produces: execs with path parts, mmaps, munmaps.
import { ProbeDecoder } from '../src/trace/decoder.js';

export interface DecoderBenchResult {
  lines: number;
  events: number;
  issues: number;
  decodeLinesPerSec: number;
  /** decode time / JSON.parse time on the same lines (lower is better; 1 = as cheap as parse). */
  decodeToParseCost: number;
}

function record(data: string): string {
  return JSON.stringify({ type: 'printf', data });
}

function syntheticStream(processes: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < processes; i++) {
    const ts = 1_000_000 + i * 1000;
    const pid = 2000 + i;
    const mm = `0xffff8881${(i % 4096).toString(16).padStart(8, '0')}`;
    lines.push(record(`H exec ${ts} ${pid} ${pid} 5 ${pid} 1 ${mm} 94000000000000 94000000010000 0xffff888100aa0000 266338304 ${260958 + i} 3\n`));
    lines.push(record(`P ${ts} ${pid} comm true\n`));
    lines.push(record(`P ${ts} ${pid} filename /usr/bin/true\n`));
    lines.push(record(`P ${ts} ${pid} exe.c0 true\n`));
    lines.push(record(`P ${ts} ${pid} exe.c1 bin\n`));
    lines.push(record(`P ${ts} ${pid} exe.c2 usr\n`));
    for (let k = 0; k < 4; k++) {
      const t = ts + 10 + k;
      lines.push(record(`H mmap ${t} ${pid} ${pid} 2 ${mm} ${140000000000000 + k * 4096} 4096 5 2066 3 0 0xffff888100bb0000 266338304 ${300000 + k} 1\n`));
      lines.push(record(`P ${t} ${pid} comm true\n`));
      lines.push(record(`P ${t} ${pid} file.c0 libc.so.6\n`));
    }
    lines.push(record(`H munmap ${ts + 50} ${pid} ${pid} 1 ${mm} 140000000000000 4096 0\n`));
    lines.push(record(`P ${ts + 50} ${pid} comm true\n`));
  }
  return lines;
}

export function runDecoderBench(processes = 40_000): DecoderBenchResult {
  const lines = syntheticStream(processes);
  const warm = new ProbeDecoder();
  lines.slice(0, 20_000).forEach((l, i) => warm.push(l, i + 1));

  let t = process.hrtime.bigint();
  for (const l of lines) JSON.parse(l);
  const parseNs = Number(process.hrtime.bigint() - t);

  const decoder = new ProbeDecoder();
  let events = 0;
  let issues = 0;
  t = process.hrtime.bigint();
  lines.forEach((l, i) => {
    for (const out of decoder.push(l, i + 1)) {
      if (out.type === 'event') events++;
      else if (out.type === 'issue') issues++;
    }
  });
  const decodeNs = Number(process.hrtime.bigint() - t);
  return {
    lines: lines.length,
    events,
    issues,
    decodeLinesPerSec: lines.length / (decodeNs / 1e9),
    decodeToParseCost: decodeNs / parseNs,
  };
}
