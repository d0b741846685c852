// The probes print an exec's filename once, at exec_begin (sched_prepare_exec has it as
// bprm->filename); the exec record that follows leaves it out. In the time-ordered stream an
// exec_begin always comes before its exec (same thread: the exec's oldTid), so the filename is
// copied over here. An exec whose exec_begin was lost keeps the empty filename it arrived with.
import type { TraceEvent } from './events.js';

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
        const filename = this.inProgress.get(e.oldTid);
        this.inProgress.delete(e.oldTid);
        if (e.filename === '' && filename !== undefined) {
          this.emit({ ...e, filename });
          return;
        }
        break;
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
