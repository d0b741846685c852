// The finding rules: given what the model knows about one mm, which classes hold now.
// Each rule prefers no verdict over a false positive: layout-dependent classes (decoy,
// stacked-fs, text-unmapped from a snapshot) need an authoritative /proc/PID/maps snapshot.
// The rules are documented precisely in docs/findings.md; keep the two in step.
import { basename, isDeletedName, isLibraryName, isLoaderName, isMemfdName, sameFile, stripDeleted } from './files.js';
import type { EvidenceRef, FileId, FindingClass, Mapping, MmRecord } from './state.js';
import { isExecutable } from './vma-set.js';
import { exeLowest } from './vma-walk.js';

export interface Verdict {
  class: FindingClass;
  evidence: EvidenceRef[];
  related?: { role: 'loaded-program' | 'decoy' | 'mapped-as'; file: FileId; address?: number }[];
}

/** Is this file a dynamic loader: by name, or proved one by structure (see reduce: interpreters). */
export type LoaderTest = (file: FileId) => boolean;

// FileIds are shared and never change: remember the name-based answer per file.
const loaderByName = new WeakMap<FileId, boolean>();

function hasLoaderName(file: FileId): boolean {
  let known = loaderByName.get(file);
  if (known === undefined) {
    known = isLoaderName(file.name) || (file.path !== null && isLoaderName(basename(file.path)));
    loaderByName.set(file, known);
  }
  return known;
}

export function loaderTest(isKnownInterpreter: (file: FileId) => boolean): LoaderTest {
  return (file) => hasLoaderName(file) || isKnownInterpreter(file);
}

/** Classes that can hold for the mm right now (the caller drops those already raised). */
export function classify(mm: MmRecord, isLoader: LoaderTest): Verdict[] {
  const exe = mm.exe;
  if (exe === null) return [];
  const out: Verdict[] = [];
  const origin = mm.timeline[0]?.evidence;
  // Built only for a verdict: classify runs on every mapping event and most find nothing.
  const base = (...more: (EvidenceRef | null | undefined)[]): EvidenceRef[] =>
    dedupe([origin, ...more].filter((e): e is EvidenceRef => e !== null && e !== undefined));

  const loader = isLoader(exe);
  if (loader) {
    const program = mm.loadedProgram ?? programFromMaps(mm, isLoader);
    out.push({
      class: 'loader-exec',
      evidence: base(mm.lastSnapshot),
      ...(program !== null ? { related: [{ role: 'loaded-program' as const, file: program }] } : {}),
    });
  }

  const link = mm.exeLink;
  if (isMemfdName(exe.path, exe.name) || isMemfdName(link)) {
    out.push({ class: 'exe-memfd', evidence: base(mm.lastSnapshot) });
  } else if (isDeletedName(exe.path) || isDeletedName(link)) {
    out.push({ class: 'exe-deleted', evidence: base(mm.lastSnapshot) });
  }

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
    const decoy = decoyMapping(mm, exe, isLoader);
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
 * below the dynamic loader's mappings, and is neither the exe nor a loader. Libraries the loader
 * maps normally sit above the loader (bottom-up layout) or above the exe (top-down layout), so
 * they never qualify; a file mapped at an address below both was placed there on purpose.
 */
export function decoyMapping(mm: MmRecord, exe: FileId, isLoader: LoaderTest): Mapping | null {
  const low = exeLowest(mm);
  if (low === null) return null;
  let loaderLow: number | null = null;
  for (const m of mm.mappings) {
    if (!sameFile(m.file, exe) && isLoader(m.file)) {
      loaderLow = m.start;
      break;
    }
  }
  for (const m of mm.mappings) {
    if (m.start >= low) break;
    if (loaderLow !== null && m.start >= loaderLow) break;
    if (isExecutable(m) && !sameFile(m.file, exe) && !isLoader(m.file)) return m;
  }
  return null;
}

/**
 * Stacked-fs rule: the exe's own (dev, ino) has no mapping, but an executable mapping on a
 * different device is the same file seen through a lower layer: it has the exe's basename, or it
 * covers the exec's start_code..end_code text range.
 */
export function stackedTwin(mm: MmRecord, exe: FileId): Mapping | null {
  const exeBase = stripDeleted(exe.path !== null ? basename(exe.path) : exe.name);
  for (const m of mm.mappings) {
    if (!isExecutable(m) || m.file.dev === exe.dev) continue;
    const sameName = exeBase !== '' && stripDeleted(m.file.name) === exeBase;
    const coversText = mm.startCode !== null && mm.endCode !== null && mm.endCode > mm.startCode && m.start <= mm.startCode && m.end >= mm.endCode;
    if (sameName || coversText) return m;
  }
  return null;
}

/** From a snapshot: the lowest executable file that is neither the loader nor library-named. */
function programFromMaps(mm: MmRecord, isLoader: LoaderTest): FileId | null {
  for (const m of mm.mappings) {
    if (isExecutable(m) && !sameFile(m.file, mm.exe) && !isLoader(m.file) && !isLibraryName(m.file.name)) return m.file;
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
