// What the dashboard needs from the model: the reducer pair plus the display selectors.
// view-model.ts provides the real one over src/model's state.
import type { ModelEngine } from './dashboard-store.js';
import type { FindingRow, ModelView } from './display-types.js';

export interface ModelBinding<S> extends ModelEngine<S> {
  /** Everything one frame shows. */
  view(state: S): ModelView;
  /**
   * Findings kept, in discovery order, and how many were ever raised (the model drops the
   * oldest past its cap). Cheap: the line printer calls it after every event.
   */
  findings(state: S): { rows: readonly FindingRow[]; total: number };
  /**
   * The line printer's initial state, when it can be leaner than the dashboard's: it prints
   * events and findings only, so no history of ended mms need be kept (their objects were most
   * of what GC had to copy in replay --speed max).
   */
  initialLineState?(): S;
}
