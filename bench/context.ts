// What every part gets, and what it hands back for BENCHMARKS.md.
import type { Binaries } from './workload.js';

export interface BenchOptions {
  only: Set<string>;
  /** 1: total execs per storm run, split over the loops. */
  stormExecs: number;
  stormLoops: number[];
  /** 2: execs in the loop whose lines are counted. */
  linesExecs: number;
  linesRounds: number;
  /** 3/4: execs per loop per round, and rounds. */
  rateExecs: number;
  rounds: number;
  /** 5: the burst before SIGINT. */
  drainExecs: number;
  drainRounds: number;
  /** 6: mm lifecycles of the small and large traces; rounds on the small one; per-run cap. */
  analyzeSmall: number;
  analyzeLarge: number;
  analyzeRounds: number;
  analyzeLargeRounds: number;
  analyzeTimeoutS: number;
  analyzeLargeTimeoutS: number;
  liveMms: number;
  /** 7: rounds. */
  startupRounds: number;
  /** 8: execs per run (2 loops) and interleaved rounds. */
  publishExecs: number;
  publishRounds: number;
  traceCache: string;
  /** 6: the Node binary for the analyze, replay and bare-parse runs (default: the bench's own). */
  node: string;
}

export interface Ctx {
  dir: string;
  bins: Binaries;
  opts: BenchOptions;
  log(msg: string): void;
}

export interface TargetRow {
  figure: string;
  result: string;
  target: string;
  /** null: not measured. */
  met: boolean | null;
  /** Where missed: what bounds it. */
  note?: string;
}

export interface PartResult {
  id: string;
  title: string;
  /** Markdown body: method and the raw per-round numbers. */
  body: string;
  targets: TargetRow[];
}

export type Part = (ctx: Ctx) => Promise<PartResult>;
