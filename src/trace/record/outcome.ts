// Phase 3 of a recording: why it ended, the trailer (written even after a failure, so the
// trace says how it ends), and the result the command prints.
import { TRAILER_MAGIC, type TraceTrailer } from '../trace-format.js';
import type { TraceWriter } from '../trace-writer.js';
import type { SessionOutcome } from './session.js';
import type { RecordError, RecordResult, StopReason } from './types.js';

export async function finishRecording(s: SessionOutcome, writer: TraceWriter | null, out: string | null, stopReason: StopReason | null): Promise<RecordResult> {
  const { result } = s;
  const runnerError = s.runnerResult?.error ?? null;
  let reason: StopReason = stopReason ?? 'bpftrace-exited';
  let error: RecordError | null = null;
  if (s.writeError !== null) {
    reason = 'error';
    error = { shortMessage: `writing ${out} failed: ${s.writeError.message}`, cause: s.writeError.message, writeFailed: true };
  } else if (runnerError !== null) {
    reason = result.probes > 0 ? 'bpftrace-exited' : 'error';
    error = { shortMessage: runnerError.shortMessage, cause: runnerError.cause, runner: runnerError };
  } else if (stopReason === null) {
    // bpftrace ended by itself without an error message: still not what the user asked for.
    error = { shortMessage: 'bpftrace exited on its own', cause: `exit code ${s.runnerResult?.exitCode ?? '?'}` };
  }
  const trailer: TraceTrailer = {
    magic: TRAILER_MAGIC,
    endedAt: new Date().toISOString(),
    events: s.events,
    lostEvents: result.lostEvents,
    parseIssues: s.parseIssueCount,
    reason,
    error: error?.shortMessage ?? null,
    skippedSnapshots: s.skippedSnapshots,
    incompleteEvents: s.decoderCounts.incompleteEvents,
    bpftraceLostRecords: s.decoderCounts.bpftraceLostRecords,
    drain: s.drain ? { complete: s.drain.complete, answeredCpus: s.drain.answered, cpus: s.drain.expected } : null,
  };
  for (const c of s.consumers) c.onEnd?.(trailer);
  await writer?.close(); // a compressed trace is complete only when the compressor's last output is out
  // Writing the trailer or the final fsync can fail too.
  const finalError: RecordError | null =
    error ?? (writer?.error ? { shortMessage: `writing ${out} failed: ${writer.error.message}`, cause: writer.error.message, writeFailed: true } : null);
  return { ...result, trailer, error: finalError, exitCode: finalError ? 1 : 0 };
}
