// Runs `exetrace analyze FILE --format json` from source and parses its output, for the live
// scenario tests. Types cover only the documented fields the tests read.
import type { AnalyzeReport } from '../../src/report/analysis.js';
import { runCli } from '../support/cli.js';

export interface AnalyzeFileAnswer {
  path?: string | null;
  dev?: number;
  ino?: number;
  [key: string]: unknown;
}

export interface AnalyzeFinding {
  class: string;
  kind: 'mismatch' | 'note';
  pid: number;
  /** Every pid that used the finding's mm. */
  pids?: number[];
  comm: string;
  mm: string;
  exe: AnalyzeFileAnswer | null;
  vmaWalk: AnalyzeFileAnswer | null;
  legacyWalk: AnalyzeFileAnswer | null;
  uncertain: boolean;
  explanation: string;
  evidence: unknown;
  request: AnalyzeRequest;
  /** The exception that labels it expected, or null. */
  expected: string | null;
  [key: string]: unknown;
}

export interface AnalyzeRequest {
  filename: string | null;
  argv0: string | null;
  interp: string | null;
}

export interface AnalyzeMm {
  key: string;
  pids: number[];
  comm: string;
  exe: AnalyzeFileAnswer | null;
  request: AnalyzeRequest;
  [key: string]: unknown;
}

export interface AnalyzeOutput {
  counts: AnalyzeReport['counts'];
  findings: AnalyzeFinding[];
  mms: AnalyzeMm[];
  /** Findings and mms left out by the report's caps. */
  dropped?: { findings: number; mms: number };
}

/** Findings about `pid`: the mm's owner at verdict time, or any pid that used the mm. */
export function findingsForPid(out: AnalyzeOutput, pid: number): AnalyzeFinding[] {
  return out.findings.filter((f) => f.pid === pid || (f.pids ?? []).includes(pid));
}

export async function analyzeJson(tracePath: string, extraArgs: string[] = []): Promise<AnalyzeOutput> {
  const result = await runCli(['analyze', tracePath, '--format', 'json', ...extraArgs], { maxBuffer: 512 * 1024 * 1024 });
  if (result.code !== 0) {
    throw new Error(`exetrace analyze ${tracePath} exited ${result.code}:\n${result.stderr}\n${result.stdout.slice(0, 4000)}`);
  }
  try {
    return JSON.parse(result.stdout) as AnalyzeOutput;
  } catch (err) {
    throw new Error(`exetrace analyze printed something that is not JSON (${(err as Error).message}):\n${result.stdout.slice(0, 4000)}`, { cause: err });
  }
}

/** Mismatch findings only (notes such as exe-deleted and exe-memfd are not mismatches). */
export function mismatchFindings(out: AnalyzeOutput): AnalyzeFinding[] {
  return out.findings.filter((f) => f.kind === 'mismatch');
}
