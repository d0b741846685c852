// The finding rules: given what the model knows about one mm, which classes hold now.
// Each rule prefers no verdict over a false positive: layout-dependent classes (decoy,
// stacked-fs, text-unmapped from a snapshot) need an authoritative /proc/PID/maps snapshot.
// No rule looks at a file's name: what a file is comes from identities and structure the kernel
// gives (AT_BASE, the mount, the superblock, the overlay inode, st_nlink) or its ELF headers.
// The rules are documented precisely in docs/findings.md; keep the two in step.
import { sameFile } from './files.js';
import type { EvidenceRef, FileId, FindingClass, Mapping, MmRecord } from './state.js';
import { isExecutable } from './vma-set.js';
import { exeLowest } from './vma-walk.js';

export interface Verdict {
  class: FindingClass;
  evidence: EvidenceRef[];
  related?: { role: 'loaded-program' | 'decoy' | 'mapped-as'; file: FileId; address?: number }[];
}

/** Is this file some image's ELF interpreter: the kernel mapped it at an AT_BASE (see reduce). */
export type InterpreterTest = (file: FileId) => boolean;

/**
 * The exe is a dynamic loader run as a program: a file the kernel mapped as an interpreter
 * elsewhere (identity), or an ELF shared object without PT_INTERP (structure: a copy or a
 * rename of ld.so is still one; a static-pie carries DF_1_PIE and is not).
 */
export function exeIsLoader(mm: MmRecord, isInterpreter: InterpreterTest): boolean {
  return mm.exe !== null && (mm.exeElf === 'shared-object' || isInterpreter(mm.exe));
}

/** Classes that can hold for the mm right now (the caller drops those already raised). */
export function classify(mm: MmRecord, isInterpreter: InterpreterTest): Verdict[] {
  const exe = mm.exe;
  if (exe === null) return [];
  const out: Verdict[] = [];
  const origin = mm.timeline[0]?.evidence;
  // Built only for a verdict: classify runs on every mapping event and most find nothing.
  const base = (...more: (EvidenceRef | null | undefined)[]): EvidenceRef[] =>
    dedupe([origin, ...more].filter((e): e is EvidenceRef => e !== null && e !== undefined));

  const loader = exeIsLoader(mm, isInterpreter);
  if (loader) {
    const program = mm.firstMapped !== null && !isInterpreter(mm.firstMapped) ? mm.firstMapped : null;
    out.push({
      class: 'loader-exec',
      evidence: base(mm.lastSnapshot),
      ...(program !== null ? { related: [{ role: 'loaded-program' as const, file: program }] } : {}),
    });
  }

  if (mm.exeInternal === true) {
    out.push({ class: 'exe-memfd', evidence: base(mm.lastSnapshot) });
  } else if (mm.exeNlink === 0) {
    out.push({ class: 'exe-deleted', evidence: base(mm.lastSnapshot) });
  }
  if (mm.exeOverlayUpper === true) out.push({ class: 'exe-upper-layer', evidence: base() });

  // Layout rules only judge the file that was exec'd; after a prctl replacement the new file
  // was never mapped by design, and exe-replaced already says so.
  if (mm.mapsKnowledge === 'none' || !sameFile(exe, mm.execFile)) return out;
  let ownExec = false;
  let anyOwn = false;
  for (const m of mm.mappings) {
    if (!sameFile(m.file, exe)) continue;
    anyOwn = true;
    if (isExecutable(m)) {
      ownExec = true;
      break;
    }
  }
  const snapshot = mm.mapsKnowledge === 'snapshot';

  if (!ownExec) {
    const twin = snapshot && !anyOwn ? stackedTwin(mm, exe) : null;
    if (twin !== null) {
      out.push({ class: 'stacked-fs', evidence: base(mm.lastSnapshot), related: [{ role: 'mapped-as', file: twin.file, address: twin.start }] });
    } else if (snapshot || mm.recentChanges.length > 0) {
      // From events alone only a removal we saw proves it (the text range came from exec).
      out.push({ class: 'text-unmapped', evidence: base(...mm.recentChanges, mm.lastSnapshot) });
    }
    return out;
  }

  if (snapshot && !loader) {
    const decoy = decoyMapping(mm, exe, isInterpreter);
    if (decoy !== null) {
      out.push({
        class: 'decoy-mapping',
        evidence: base(decoy.evidence, mm.lastSnapshot),
        related: [{ role: 'decoy', file: decoy.file, address: decoy.start }],
      });
    }
  }
  return out;
}

/**
 * Decoy rule: the lowest executable file mapping that lies below every mapping of the exe AND
 * below the dynamic loader (its AT_BASE, or its lowest mapping), and is neither the exe nor an
 * interpreter. Libraries the loader maps normally sit above the loader (bottom-up layout) or
 * above the exe (top-down layout), so they never qualify; a file mapped below both was placed
 * there on purpose.
 */
export function decoyMapping(mm: MmRecord, exe: FileId, isInterpreter: InterpreterTest): Mapping | null {
  const low = exeLowest(mm);
  // Where the interpreter is must be known (AT_BASE, 0 for none): without it (a trace older
  // than the field, an unreadable auxv) rule 3 cannot be applied, so no verdict.
  if (low === null || mm.interpBase === null) return null;
  let loaderLow: number | null = mm.interpBase > 0 ? mm.interpBase : null;
  if (loaderLow === null) {
    for (const m of mm.mappings) {
      if (!sameFile(m.file, exe) && isInterpreter(m.file)) {
        loaderLow = m.start;
        break;
      }
    }
  }
  for (const m of mm.mappings) {
    if (m.start >= low) break;
    if (loaderLow !== null && m.start >= loaderLow) break;
    if (isExecutable(m) && !sameFile(m.file, exe) && !isInterpreter(m.file)) return m;
  }
  return null;
}

/**
 * Stacked-fs rule: the exe's own (dev, ino) has no mapping, but an executable mapping on a
 * different device covers the image's start_code..end_code text range (the kernel mapped the
 * exe there; maps shows the lower layer's file).
 */
export function stackedTwin(mm: MmRecord, exe: FileId): Mapping | null {
  if (mm.startCode === null || mm.endCode === null || mm.endCode <= mm.startCode) return null;
  for (const m of mm.mappings) {
    if (!isExecutable(m) || m.file.dev === exe.dev) continue;
    if (m.start <= mm.startCode && m.end >= mm.endCode) return m;
  }
  return null;
}

function dedupe(refs: EvidenceRef[]): EvidenceRef[] {
  const seen = new Set<string>();
  const out: EvidenceRef[] = [];
  for (const r of refs) {
    const k = `${r.kind}@${r.ts}@${r.line ?? ''}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return out.slice(0, 8);
}
