// What was asked for at exec, as shown next to comm and exe in findings and mm summaries.
import type { ExecRequest, MmRecord } from './state.js';

export function requestOf(mm: MmRecord): ExecRequest {
  return { filename: mm.execFilename, argv0: mm.argv0, interp: mm.execInterp };
}
