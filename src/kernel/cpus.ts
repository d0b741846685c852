// The CPUs the kernel has online now (/sys/devices/system/cpu/online, e.g. "0-3,6").
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export function parseCpuList(text: string): Set<number> {
  const cpus = new Set<number>();
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`bad CPU list entry "${part}"`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi; c++) cpus.add(c);
  }
  return cpus;
}

export function onlineCpus(path = '/sys/devices/system/cpu/online'): Set<number> {
  try {
    return parseCpuList(readFileSync(path, 'utf8'));
  } catch {
    return new Set(Array.from({ length: availableParallelism() }, (_, i) => i));
  }
}
