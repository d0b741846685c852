// Read-only views of the model state for consumers (dashboard, reports, recorder summary).
// Consumers should use these rather than walking the persistent maps themselves.
import { answerOf, sameFile, walkAnswerOf } from './files.js';
import { pget, pvalues } from './pmap.js';
import { ringItems, ringSince } from './ring.js';
import type { EndedMm, FileAnswer, MapsKnowledge, MmRecord, ModelState, WalkAnswer } from './state.js';
import { legacyWalk, vmaWalk } from './vma-walk.js';

export function liveMms(state: ModelState): MmRecord[] {
  return [...pvalues(state.mms)];
}

/** The recently ended mms kept (the newest maxEndedMms), oldest first. */
export function endedMms(state: ModelState): EndedMm[] {
  return ringItems(state.ended, state.options.maxEndedMms);
}

/**
 * Ended mms numbered `seen` and later (numbering counts every mm ever ended, from 0), oldest
 * first. A driver that keeps `seen = state.endedTotal` after each event gets each one once.
 */
export function endedSince(state: ModelState, seen: number): EndedMm[] {
  return seen >= state.endedTotal ? [] : ringSince(state.ended, seen, state.options.maxEndedMms);
}

/** The pid's current mm, if the model knows one. */
export function mmOfPid(state: ModelState, pid: number): MmRecord | undefined {
  const key = pget(state.pidMm, pid);
  return key === undefined ? undefined : pget(state.mms, key);
}

/**
 * 'agree': the VMA walk names the exe's file; 'differs': it names another file or none;
 * 'unknown': the model has no maps data for this mm (no verdict is better than a guess).
 */
export type AnswerStatus = 'agree' | 'differs' | 'unknown';

export interface MmAnswers {
  exe: FileAnswer | null;
  vmaWalk: WalkAnswer | null;
  legacyWalk: WalkAnswer | null;
  status: AnswerStatus;
  knowledge: MapsKnowledge;
}

export function answersOf(mm: MmRecord): MmAnswers {
  const walk = vmaWalk(mm);
  const legacy = legacyWalk(mm);
  const status: AnswerStatus =
    mm.mapsKnowledge === 'none' || mm.exe === null
      ? 'unknown'
      : walk !== null && sameFile(walk.file, mm.exe)
        ? 'agree'
        : mm.mapsKnowledge === 'snapshot'
          ? 'differs'
          : 'unknown';
  return { exe: answerOf(mm.exe), vmaWalk: walkAnswerOf(walk), legacyWalk: walkAnswerOf(legacy), status, knowledge: mm.mapsKnowledge };
}
