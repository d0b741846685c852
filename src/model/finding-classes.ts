// Every finding class, once: whether it is a mismatch or a note, the evidence it needs from a probe
// flavor, and the lab scenario that reproduces it on a real kernel. FindingClass, FINDING_CLASSES,
// FINDING_KIND, doctor's flavor support and the lab's expected classes all derive from this table,
// so a class added here must be handled everywhere else before the build passes.

/** The kernel hooks a probe flavor feeds the model through (named per flavor by doctor). */
export interface FlavorHooks {
  exec: string;
  teardown: string;
  unmap: string;
}

interface FindingClassInfo {
  /** A mismatch: /proc/PID/exe and the VMA walk disagree. A note: exe_file itself is unusual. */
  kind: 'mismatch' | 'note';
  /** The evidence the model needs for this class, given a flavor's hooks. */
  needs: (hooks: FlavorHooks) => string;
  /** The test/lab scenario that reproduces it. */
  scenario: string;
}

export const FINDING_CLASS_TABLE = {
  'loader-exec': {
    kind: 'mismatch',
    scenario: 'ldso-launch',
    needs: (h) => `exec (${h.exec}) + executable mmaps + a /proc snapshot (auxv AT_BASE, the exe's ELF headers)`,
  },
  'decoy-mapping': { kind: 'mismatch', scenario: 'decoy', needs: () => 'executable mmaps (MAP_FIXED) + a /proc maps snapshot' },
  'text-unmapped': { kind: 'mismatch', scenario: 'text-unmapped', needs: (h) => `${h.unmap} + a /proc maps snapshot` },
  'stacked-fs': { kind: 'mismatch', scenario: 'nested-overlay', needs: (h) => `exe_file's superblock device at exec (${h.exec}) + a /proc maps snapshot` },
  'exe-replaced': { kind: 'mismatch', scenario: 'exe-replaced', needs: () => 'prctl(PR_SET_MM) with exe_file before and after' },
  'exe-deleted': { kind: 'note', scenario: 'deleted-exe', needs: () => "the exe's link count from a /proc snapshot (at exe reads)" },
  'exe-memfd': { kind: 'note', scenario: 'memfd-exec', needs: (h) => `exe_file's mount and superblock at exec (${h.exec}), or a /proc snapshot` },
  'exe-upper-layer': { kind: 'note', scenario: 'upper-layer', needs: (h) => `exe_file's overlayfs inode at exec (${h.exec})` },
} as const satisfies Record<string, FindingClassInfo>;

type Table = typeof FINDING_CLASS_TABLE;
export type FindingClass = keyof Table;
export type FindingKind = FindingClassInfo['kind'];
/** The lab scenario of each class (test/lab/scenarios.ts must define every one). */
export type FindingScenario = Table[FindingClass]['scenario'];

/** In table order: the order of every count and listing. */
export const FINDING_CLASSES = Object.keys(FINDING_CLASS_TABLE) as readonly FindingClass[];

export const FINDING_KIND = Object.fromEntries(FINDING_CLASSES.map((c) => [c, FINDING_CLASS_TABLE[c].kind])) as Readonly<Record<FindingClass, FindingKind>>;

export const NOTE_CLASSES: readonly FindingClass[] = FINDING_CLASSES.filter((c) => FINDING_KIND[c] === 'note');

/** The class a lab scenario should produce, or null when it produces none. */
export function classOfScenario(scenario: string): FindingClass | null {
  return FINDING_CLASSES.find((c) => FINDING_CLASS_TABLE[c].scenario === scenario) ?? null;
}
