// The machine a run was measured on, for the head of its BENCHMARKS.md section.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';

const sh = (file: string, args: string[]): string => {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
};

export interface HostFacts {
  nproc: string;
  cpu: string;
  memGiB: string;
  kernel: string;
  bpftrace: string;
  node: string;
  /** Figure 6's Node when `--node` names another one, else null. */
  analyzeNode: string | null;
  gcc: string;
  loadStart: string;
  commit: string;
  codeCommit: string;
  dirty: boolean;
}

export const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');

export function hostFacts(analyzeNode: string): HostFacts {
  return {
    nproc: sh('nproc', []),
    cpu: cpus()[0]?.model ?? 'unknown',
    memGiB: (totalmem() / 2 ** 30).toFixed(0),
    kernel: release(),
    bpftrace: sh('bpftrace', ['--version']),
    node: process.version,
    analyzeNode: analyzeNode === process.execPath ? null : `${sh(analyzeNode, ['--version'])} (${analyzeNode})`,
    gcc: sh('gcc', ['-dumpfullversion']),
    loadStart: load(),
    commit: sh('git', ['rev-parse', '--short', 'HEAD']),
    // The code under test: the last commit that touched anything but the benchmark itself.
    codeCommit: sh('git', ['log', '-1', '--format=%h', '--', 'src', 'probes', 'dashboards']),
    dirty: sh('git', ['status', '--porcelain', '--', 'src', 'probes', 'dashboards']) !== '',
  };
}
