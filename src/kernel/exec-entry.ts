// Which function holds exec's point of no return on this kernel: begin_new_exec (5.8+) or
// flush_old_exec (its predecessor, same argument and return). Read from BTF, else from
// /proc/kallsyms (names are readable there even when addresses are hidden); never guessed from
// the version number.
import { readFileSync } from 'node:fs';
import type { Btf } from './btf.js';

export type ExecEntryFunction = 'begin_new_exec' | 'flush_old_exec';

export const KALLSYMS_PATH = '/proc/kallsyms';

export type ExecEntryFact = { ok: true; fn: ExecEntryFunction; source: 'btf' | 'kallsyms' } | { ok: false; reason: string };

const CANDIDATES: readonly ExecEntryFunction[] = ['begin_new_exec', 'flush_old_exec'];

/** Function names of a kallsyms text ("ADDR TYPE NAME [MODULE]"), text symbols only. */
function kallsymsHas(text: string, names: readonly string[]): Set<string> {
  const want = new Set(names);
  const found = new Set<string>();
  for (const line of text.split('\n')) {
    const f = line.split(/\s+/);
    if (f.length >= 3 && (f[1] === 't' || f[1] === 'T') && want.has(f[2]!)) found.add(f[2]!);
  }
  return found;
}

/** `btf` null: BTF unreadable; `kallsyms` null: reads /proc/kallsyms (a string: that text, for tests). */
export function detectExecEntry(btf: Btf | null, kallsyms: string | null = null): ExecEntryFact {
  if (btf !== null) {
    for (const fn of CANDIDATES) if (btf.func(fn).exists) return { ok: true, fn, source: 'btf' };
  }
  let text = kallsyms;
  if (text === null) {
    try {
      text = readFileSync(KALLSYMS_PATH, 'utf8');
    } catch (err) {
      return {
        ok: false,
        reason: `neither begin_new_exec nor flush_old_exec in BTF, and ${KALLSYMS_PATH}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      };
    }
  }
  const found = kallsymsHas(text, CANDIDATES);
  for (const fn of CANDIDATES) if (found.has(fn)) return { ok: true, fn, source: 'kallsyms' };
  return { ok: false, reason: `neither begin_new_exec nor flush_old_exec in BTF or ${KALLSYMS_PATH}` };
}
