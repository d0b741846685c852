// Turning a verdict into a Finding: the two answers, the evidence, and one sentence that says
// why they differ. Explanations use raw kernel strings; writers sanitise them for display.
import { answerOf, displayName, walkAnswerOf } from './files.js';
import { requestOf } from './request.js';
import { FINDING_KIND } from './finding-classes.js';
import type { Verdict } from './classify.js';
import type { EvidenceRef, FileId, Finding, MmRecord } from './state.js';
import { legacyWalk, vmaWalk } from './vma-walk.js';

export interface FindingContext {
  id: string;
  pid: number;
  ts: number;
  uncertain: boolean;
  /** exe-replaced only: the file before the prctl. */
  oldExe?: FileId | null;
  /** The exception that labels it expected, or null. */
  expected: string | null;
}

export function makeFinding(mm: MmRecord, verdict: Verdict, ctx: FindingContext): Finding {
  const walk = vmaWalk(mm);
  const legacy = legacyWalk(mm);
  const related: NonNullable<Finding['related']> = (verdict.related ?? []).map((r) => ({
    role: r.role,
    file: answerOf(r.file)!,
    ...(r.address !== undefined ? { address: r.address } : {}),
  }));
  if (verdict.class === 'exe-replaced') {
    if (ctx.oldExe) related.push({ role: 'old-exe', file: answerOf(ctx.oldExe)! });
    if (mm.exe) related.push({ role: 'new-exe', file: answerOf(mm.exe)! });
  }
  return {
    id: ctx.id,
    class: verdict.class,
    kind: FINDING_KIND[verdict.class],
    pid: ctx.pid,
    pids: [...mm.pids],
    comm: mm.comm,
    mm: mm.addr,
    mmKey: mm.key,
    exe: answerOf(mm.exe),
    vmaWalk: walkAnswerOf(walk),
    legacyWalk: walkAnswerOf(legacy),
    ts: ctx.ts,
    evidence: verdict.evidence as EvidenceRef[],
    uncertain: ctx.uncertain,
    explanation: explain(verdict, mm, ctx, walk ? walk.file : null),
    request: requestOf(mm),
    expected: ctx.expected,
    ...(related.length > 0 ? { related } : {}),
  };
}

/** Also used when a later snapshot names the program the loader loaded. */
export function explainLoaderExec(loader: FileId | null, program: FileId | null): string {
  return `The dynamic loader ${displayName(loader)} was executed directly, so /proc/PID/exe names the loader while the program it loaded is ${program ? displayName(program) : 'not known from the trace'}.`;
}

function explain(v: Verdict, mm: MmRecord, ctx: FindingContext, walkFile: FileId | null): string {
  const exe = displayName(mm.exe);
  const rel = v.related?.[0];
  const hex = (n: number | undefined): string => (n === undefined ? '?' : `0x${n.toString(16)}`);
  switch (v.class) {
    case 'loader-exec':
      return explainLoaderExec(mm.exe, rel?.file ?? null);
    case 'decoy-mapping':
      return `${displayName(rel?.file ?? null)} is mapped executable at ${hex(rel?.address)}, below the executable ${exe} and the loader, so a VMA walk names it instead of the executable.`;
    case 'text-unmapped':
      return `No executable mapping of ${exe} remains (its text was unmapped or remapped over), so a VMA walk names ${walkFile ? displayName(walkFile) : 'no file'} while exe_file still names the program.`;
    case 'stacked-fs':
      return `The executable ${exe} (device ${mm.exe?.dev}) is mapped through a lower filesystem layer as ${displayName(rel?.file ?? null)} (device ${rel?.file.dev}), so the VMA walk and exe_file give different paths and devices for the same program.`;
    case 'exe-replaced':
      return `prctl(PR_SET_MM) replaced exe_file without an exec: /proc/PID/exe changed from ${displayName(ctx.oldExe ?? null)} to ${exe}.`;
    case 'exe-deleted':
      return `The executable ${exe} was deleted or replaced on disk while running; both answers agree but the path no longer names it.`;
    case 'exe-memfd':
      return `The executable ${exe} is a memfd (fexecve of an anonymous file); both answers agree but it has no name on any filesystem.`;
    case 'exe-upper-layer':
      return `The executable ${exe} lives in the upper (writable) layer of an overlay: it was written or modified after the overlay was mounted (inside a container after it started), not shipped in an image layer.`;
  }
}
