// The model as the line printers follow it: every event reduced, and the findings raised since
// they last asked. Both printers print events and findings only, so the state is the model's
// lean one (initialLineState: no ended-mm history).
import type { TraceEvent } from '../src/trace/events.js';
import type { FindingRow } from './display-types.js';
import type { ModelBinding } from './model-binding.js';

const NONE: readonly FindingRow[] = [];

export class FindingFollower<S> {
  private state: S;
  /** Findings handed out so far (counting those the model's cap dropped before they could be). */
  printed = 0;

  constructor(private readonly model: ModelBinding<S>) {
    this.state = model.initialLineState?.() ?? model.initialState();
  }

  reduce(e: TraceEvent): void {
    this.state = this.model.reduce(this.state, e);
  }

  /** Findings raised since the last call; rows dropped by the model's cap are skipped. */
  newFindings(): readonly FindingRow[] {
    const { rows, total } = this.model.findings(this.state);
    if (total === this.printed) return NONE;
    // The newest (total - printed) rows are new.
    const fresh = rows.slice(Math.max(0, rows.length - (total - this.printed)));
    this.printed = total;
    return fresh;
  }
}
