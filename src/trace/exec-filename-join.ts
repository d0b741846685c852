// The probes print an exec's filename once, at exec_begin (sched_prepare_exec has it as
// bprm->filename); the exec record that follows leaves it out. In the time-ordered stream an
// exec_begin always comes before its exec (same thread: the exec's oldTid), so the filename is
// copied over here, and so is argv[0] when the probe found it equal to the filename. An exec
// whose exec_begin was lost keeps the empty filename it arrived with, and no argv[0] then.
import type { ExecEvent, TraceEvent } from './events.js';

/** The decoder's argv0 for "equal to the filename": a NUL, which no argv string can hold. */
export const ARGV0_IS_FILENAME = '\0filename';

export class ExecFilenameJoin {
  /** tid → filename of its exec in progress. Bounded by the threads exec'ing right now. */
  private readonly inProgress = new Map<number, string>();

  constructor(private readonly emit: (event: TraceEvent) => void) {}

  push(e: TraceEvent): void {
    switch (e.kind) {
      case 'exec_begin':
        this.inProgress.set(e.tid, e.filename);
        break;
      case 'exec': {
        const begun = this.inProgress.get(e.oldTid);
        this.inProgress.delete(e.oldTid);
        const filename = e.filename === '' && begun !== undefined ? begun : e.filename;
        if (filename === e.filename && e.argv0 !== ARGV0_IS_FILENAME) break;
        const joined: ExecEvent = { ...e, filename };
        if (e.argv0 === ARGV0_IS_FILENAME) {
          if (filename !== '') joined.argv0 = filename;
          else delete joined.argv0;
        }
        this.emit(joined);
        return;
      }
      case 'exit':
        // An exec that failed after exec_begin (a fatal signal in de_thread) never completes.
        this.inProgress.delete(e.tid);
        break;
      default:
        break;
    }
    this.emit(e);
  }
}
