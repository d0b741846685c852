// The dashboard's UI state (mode, selection, sort, filter) and its pure reducer. Model state
// lives elsewhere (the store); this only decides what the user is looking at.
import type { Action, Mode } from './keybindings.js';
import { nextSortKey, type SortKey } from './table-order.js';

export interface UiState {
  mode: Mode;
  /** The selected mm, by key, so the selection follows the row when the order changes. */
  selectedKey: string | null;
  sortKey: SortKey;
  /** The filter in force. */
  filter: string;
  /** The filter being typed in filter mode. */
  draft: string;
  /** First visible timeline line in the detail pane. */
  detailScroll: number;
  quit: boolean;
}

export const initialUiState: UiState = {
  mode: 'table',
  selectedKey: null,
  sortKey: 'recent',
  filter: '',
  draft: '',
  detailScroll: 0,
  quit: false,
};

/** C0, DEL and C1 controls: never part of a filter, whatever arrives in a typed chunk. */
const CONTROL_CHARS = /[\x00-\x1f\x7f-\x9f]/g;

export type UiEvent = { type: 'action'; action: Action } | { type: 'type'; text: string };

/** What the reducer needs to know about the screen: the visible rows in order. */
export interface UiContext {
  visibleKeys: readonly string[];
}

function move(ui: UiState, ctx: UiContext, delta: number): UiState {
  const keys = ctx.visibleKeys;
  if (keys.length === 0) return { ...ui, selectedKey: null };
  // Move from what is highlighted: the chosen row, or the first one when it was filtered away.
  const current = effectiveSelection(ui, ctx);
  const at = current === null ? 0 : keys.indexOf(current);
  const to = Math.max(0, Math.min(keys.length - 1, at + delta));
  return { ...ui, selectedKey: keys[to]! };
}

/** The key actually highlighted: the chosen one if still visible, else the first row. */
export function effectiveSelection(ui: UiState, ctx: UiContext): string | null {
  if (ui.selectedKey !== null && ctx.visibleKeys.includes(ui.selectedKey)) return ui.selectedKey;
  return ctx.visibleKeys[0] ?? null;
}

export function uiReduce(ui: UiState, ev: UiEvent, ctx: UiContext): UiState {
  if (ev.type === 'type') {
    if (ui.mode !== 'filter') return ui;
    // A paste or a fast terminal (tmux) can deliver text and Enter as one chunk, which ink
    // passes as text: a line break submits like Enter, and what follows it is dropped so a
    // pasted second line never turns into dashboard commands.
    const lineBreak = ev.text.search(/[\r\n]/);
    const typed = (lineBreak === -1 ? ev.text : ev.text.slice(0, lineBreak)).replace(CONTROL_CHARS, '');
    const next = { ...ui, draft: ui.draft + typed };
    return lineBreak === -1 ? next : uiReduce(next, { type: 'action', action: 'filterApply' }, ctx);
  }
  switch (ev.action) {
    case 'quit':
      return { ...ui, quit: true };
    case 'down':
      return ui.mode === 'detail' ? { ...ui, detailScroll: ui.detailScroll + 1 } : move(ui, ctx, +1);
    case 'up':
      return ui.mode === 'detail' ? { ...ui, detailScroll: Math.max(0, ui.detailScroll - 1) } : move(ui, ctx, -1);
    case 'open': {
      const key = effectiveSelection(ui, ctx);
      return key === null ? ui : { ...ui, mode: 'detail', selectedKey: key, detailScroll: 0 };
    }
    case 'back':
      return { ...ui, mode: 'table' };
    case 'sort':
      return { ...ui, sortKey: nextSortKey(ui.sortKey) };
    case 'filter':
      return { ...ui, mode: 'filter', draft: ui.filter };
    case 'filterApply':
      return { ...ui, mode: 'table', filter: ui.draft };
    case 'filterCancel':
      return { ...ui, mode: 'table', draft: '' };
    case 'filterDelete':
      return { ...ui, draft: [...ui.draft].slice(0, -1).join('') };
    case 'pause':
      // Pause belongs to the session (the store), not the view; nothing to change here.
      return ui;
  }
}
