// Which bpftrace language the probe programs are written in, chosen from `bpftrace --version`,
// and what each version step between 0.17 and 0.23 changed for them (doctor prints the list).
// Sources: bpftrace's CHANGELOG.md and docs/migration_guide.md, 0.18.0 .. 0.23.2.

/** '0.17': kfunc/kretfunc, args->x, no config block. '0.23': fentry/fexit, args.x, a config block. */
export type BpftraceDialect = '0.17' | '0.23';

export interface BpftraceVersion {
  major: number;
  minor: number;
  patch: number;
}

/** The bpftrace versions exetrace's tests run: the host and bookworm guests, and the trixie guest. */
export const PROVEN_VERSIONS: readonly string[] = ['0.17.0', '0.23.2'];

/** No ".." after a string cut at max_strlen (bpftrace 0.18+ reads it; older ones ignore it). */
export const STRING_TRAILER_ENV: Readonly<Record<string, string>> = { BPFTRACE_STR_TRUNC_TRAILER: '' };

/** "v0.23.2", "0.17.0", "v0.24.0-rc0" → numbers; null when it is not a version. */
export function parseBpftraceVersion(text: string): BpftraceVersion | null {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) } : null;
}

const atLeast = (v: BpftraceVersion, major: number, minor: number): boolean => v.major > major || (v.major === major && v.minor >= minor);

/** 0.23 and later get the 0.23 programs; older (and unparseable) versions the 0.17 ones. */
export function dialectFor(version: BpftraceVersion | null): BpftraceDialect {
  return version !== null && atLeast(version, 0, 23) ? '0.23' : '0.17';
}

export interface DialectChange {
  /** The bpftrace version that made the change. */
  since: string;
  change: string;
  /** What exetrace does about it. */
  handling: string;
}

/**
 * Every change between 0.17 and 0.23 that touches the probes. A change applies to a version
 * at or after `since`; the dialect column of docs/flavors.md says the same.
 */
export const DIALECT_CHANGES: readonly (DialectChange & { sinceVersion: [number, number] })[] = [
  {
    since: '0.18',
    sinceVersion: [0, 18],
    change: 'truncated strings get a ".." trailer (str_trunc_trailer)',
    handling: 'BPFTRACE_STR_TRUNC_TRAILER="" in the environment, and str_trunc_trailer = "" in the 0.23 config block: a cut string stays a byte prefix',
  },
  {
    since: '0.19',
    sinceVersion: [0, 19],
    change: 'args is a struct: args.x (args->x kept for compatibility)',
    handling: 'the 0.23 programs read args.x',
  },
  {
    since: '0.20',
    sinceVersion: [0, 20],
    change: 'fentry/fexit are the names of kfunc/kretfunc',
    handling: 'the 0.23 kfunc program attaches fentry:/fexit:, and so does the kfunc trial',
  },
  {
    since: '0.20',
    sinceVersion: [0, 20],
    change: 'config block; BPFTRACE_STRLEN renamed max_strlen (the old variable warns)',
    handling: 'the 0.23 programs set max_strlen in a config block; exetrace never sets BPFTRACE_STRLEN',
  },
  {
    since: '0.21',
    sinceVersion: [0, 21],
    change: 'strings are no longer limited to 200 bytes on the BPF stack',
    handling:
      'max_strlen = 256 in the 0.23 programs: a path component (NAME_MAX 255) is never cut; path arguments and readlink answers keep 255 bytes instead of 63',
  },
  {
    since: '0.22',
    sinceVersion: [0, 22],
    change: 'scratch variables are block scoped',
    handling: 'every variable the programs read after a block is assigned before it (the 0.17 and 0.23 programs compile with 0.23.2)',
  },
  {
    since: '0.22',
    sinceVersion: [0, 22],
    change: 'pid and tid are uint32',
    handling: 'printed with %d and never stored in a variable that later holds a 64-bit value (compiles with 0.23.2)',
  },
  {
    since: '0.22',
    sinceVersion: [0, 22],
    change: 'maps are printed at exit unless print_maps_on_exit = 0',
    handling: 'END clears every map, and the 0.23 config block sets print_maps_on_exit = 0',
  },
  {
    since: '0.23',
    sinceVersion: [0, 23],
    change: 'max_strlen defaults to 1024 instead of 64',
    handling: 'set explicitly (256) so every printed string costs a known size',
  },
  {
    since: '0.23',
    sinceVersion: [0, 23],
    change: 'error messages: "fentry/fexit not available for your kernel version.", "Error attaching probe: NAME" without quotes',
    handling: 'both spellings are recognised (src/trace/bpftrace-stderr.ts)',
  },
  {
    since: '0.23',
    sinceVersion: [0, 23],
    change: 'user and kernel pointers compared in one expression warn "Addrspace mismatch"',
    handling: 'warnings only: the programs compare addresses as numbers; the lines stay in the recorder log',
  },
];

/** The changes that apply to this version (all of them for versions newer than 0.23). */
export function changesFor(version: BpftraceVersion | null): DialectChange[] {
  if (version === null) return [];
  return DIALECT_CHANGES.filter((c) => atLeast(version, c.sinceVersion[0], c.sinceVersion[1])).map(({ since, change, handling }) => ({
    since,
    change,
    handling,
  }));
}

/** Said when exetrace's tests never ran this version. */
export function unprovenNote(version: BpftraceVersion | null): string | null {
  if (version === null) return 'unknown bpftrace version: using the 0.17 programs';
  const v = `${version.major}.${version.minor}.${version.patch}`;
  return PROVEN_VERSIONS.includes(v) ? null : `bpftrace ${v} was never run by exetrace's tests (run: ${PROVEN_VERSIONS.join(', ')})`;
}
