// Sorting and filtering of the mm table: pure functions over display rows.
import type { MmRow } from './display-types.js';

export const SORT_KEYS = ['recent', 'pid', 'comm', 'exe', 'finding'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export function nextSortKey(current: SortKey): SortKey {
  const i = SORT_KEYS.indexOf(current);
  return SORT_KEYS[(i + 1) % SORT_KEYS.length]!;
}

const firstPid = (r: MmRow): number => r.pids[0] ?? Number.MAX_SAFE_INTEGER;

const COMPARATORS: Record<SortKey, (a: MmRow, b: MmRow) => number> = {
  // Newest activity first: what a live view wants on top.
  recent: (a, b) => b.lastTs - a.lastTs,
  pid: (a, b) => firstPid(a) - firstPid(b),
  comm: (a, b) => a.comm.localeCompare(b.comm),
  exe: (a, b) => a.exe.localeCompare(b.exe),
  // Rows with findings first, most findings first.
  finding: (a, b) => b.findings - a.findings || (a.badge ?? '').localeCompare(b.badge ?? ''),
};

/** A new array; ties fall back to the mm key so the order is stable between redraws. */
export function sortRows(rows: readonly MmRow[], key: SortKey): MmRow[] {
  const cmp = COMPARATORS[key];
  return [...rows].sort((a, b) => cmp(a, b) || a.key.localeCompare(b.key));
}

/**
 * Case-insensitive substring match on pid, comm, exe path, VMA-walk answer, state and badge.
 * Matching uses the raw strings; the filter text is what the user typed.
 */
export function filterRows(rows: readonly MmRow[], filter: string): MmRow[] {
  const needle = filter.trim().toLowerCase();
  if (needle === '') return [...rows];
  return rows.filter((r) =>
    [r.pids.join(' '), r.comm, r.exe, r.vmaWalk, r.state, r.badge ?? '', r.mm, r.host ?? ''].some((f) => f.toLowerCase().includes(needle)),
  );
}
