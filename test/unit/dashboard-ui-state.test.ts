import { describe, expect, it } from 'vitest';
import type { MmRow } from '../../dashboards/display-types.js';
import type { Action } from '../../dashboards/keybindings.js';
import { filterRows, nextSortKey, sortRows, SORT_KEYS, type SortKey } from '../../dashboards/table-order.js';
import { effectiveSelection, initialUiState, uiReduce, type UiState } from '../../dashboards/ui-state.js';

const row = (key: string, pid: number, comm: string, exe: string, lastTs: number, findings = 0, badge: string | null = null): MmRow => ({
  key,
  mm: `0xffff${key}`,
  pids: [pid],
  comm,
  exe,
  state: "exec'd",
  vmaWalk: exe,
  badge,
  findings,
  uncertain: false,
  lastTs,
});

const rows = [
  row('a', 300, 'sleep', '/usr/bin/sleep', 10),
  row('b', 100, 'bash', '/usr/bin/bash', 30, 2, 'loader-exec'),
  row('c', 200, 'cat', '/usr/bin/cat', 20, 1, 'exe-deleted'),
];

describe('table order', () => {
  it('sorts by each key', () => {
    expect(sortRows(rows, 'recent').map((r) => r.key)).toEqual(['b', 'c', 'a']);
    expect(sortRows(rows, 'pid').map((r) => r.key)).toEqual(['b', 'c', 'a']);
    expect(sortRows(rows, 'comm').map((r) => r.comm)).toEqual(['bash', 'cat', 'sleep']);
    expect(sortRows(rows, 'exe').map((r) => r.key)).toEqual(['b', 'c', 'a']);
    expect(sortRows(rows, 'finding').map((r) => r.key)).toEqual(['b', 'c', 'a']);
    expect(sortRows([rows[0]!, rows[2]!], 'pid').map((r) => r.key)).toEqual(['c', 'a']);
  });

  it('cycles through every sort key and back', () => {
    let k: SortKey = SORT_KEYS[0];
    const seen = new Set<string>();
    for (let i = 0; i < SORT_KEYS.length; i++) {
      seen.add(k);
      k = nextSortKey(k);
    }
    expect(seen.size).toBe(SORT_KEYS.length);
    expect(k).toBe(SORT_KEYS[0]);
  });

  it('filters on pid, comm, exe and badge, case-insensitively', () => {
    expect(filterRows(rows, 'SLE').map((r) => r.key)).toEqual(['a']);
    expect(filterRows(rows, '200').map((r) => r.key)).toEqual(['c']);
    expect(filterRows(rows, 'loader').map((r) => r.key)).toEqual(['b']);
    expect(filterRows(rows, '/usr/bin').length).toBe(3);
    expect(filterRows(rows, '  ').length).toBe(3);
    expect(filterRows(rows, 'nomatch')).toEqual([]);
  });
});

describe('ui reducer', () => {
  const ctx = { visibleKeys: ['b', 'c', 'a'] };
  const act = (ui: UiState, action: Action) => uiReduce(ui, { type: 'action', action }, ctx);

  it('moves the selection within bounds and follows the key', () => {
    // Nothing chosen yet: the first row is highlighted, so down goes to the second.
    expect(effectiveSelection(initialUiState, ctx)).toBe('b');
    let ui = act(initialUiState, 'down');
    expect(ui.selectedKey).toBe('c');
    expect(act(initialUiState, 'up').selectedKey).toBe('b');
    ui = act(act(act(ui, 'down'), 'down'), 'down');
    expect(ui.selectedKey).toBe('a');
    ui = act(ui, 'up');
    expect(ui.selectedKey).toBe('c');
    // Rows reorder: the selection stays on the same mm.
    expect(effectiveSelection(ui, { visibleKeys: ['c', 'a', 'b'] })).toBe('c');
    // Filtered away: the first visible row is highlighted.
    expect(effectiveSelection(ui, { visibleKeys: ['a'] })).toBe('a');
  });

  it('Enter opens the highlighted mm, Esc (back) returns, j/k scroll the detail', () => {
    let ui = act(initialUiState, 'open');
    expect(ui.mode).toBe('detail');
    expect(ui.selectedKey).toBe('b');
    ui = act(act(ui, 'down'), 'down');
    expect(ui.detailScroll).toBe(2);
    expect(ui.selectedKey).toBe('b');
    ui = act(ui, 'back');
    expect(ui.mode).toBe('table');
    expect(uiReduce(initialUiState, { type: 'action', action: 'open' }, { visibleKeys: [] }).mode).toBe('table');
  });

  it('types, edits, applies and cancels a filter', () => {
    let ui = act(initialUiState, 'filter');
    expect(ui.mode).toBe('filter');
    for (const ch of 'slex') ui = uiReduce(ui, { type: 'type', text: ch }, ctx);
    ui = act(ui, 'filterDelete');
    expect(ui.draft).toBe('sle');
    ui = act(ui, 'filterApply');
    expect(ui).toMatchObject({ mode: 'table', filter: 'sle' });
    ui = act(act(ui, 'filter'), 'filterCancel');
    expect(ui).toMatchObject({ mode: 'table', filter: 'sle' });
    // Typing outside filter mode does nothing.
    expect(uiReduce(ui, { type: 'type', text: 'z' }, ctx)).toBe(ui);
  });

  it('a typed chunk holding a line break submits the text before it; controls never enter the filter', () => {
    const typing = act(initialUiState, 'filter');
    // tmux send-keys "lab-" Enter, or a paste: one chunk, passed as text.
    expect(uiReduce(typing, { type: 'type', text: 'lab-\r' }, ctx)).toMatchObject({ mode: 'table', filter: 'lab-' });
    expect(uiReduce(typing, { type: 'type', text: 'sle\nq' }, ctx)).toMatchObject({ mode: 'table', filter: 'sle', quit: false });
    expect(uiReduce(typing, { type: 'type', text: '\r\n' }, ctx)).toMatchObject({ mode: 'table', filter: '' });
    const dirty = uiReduce(typing, { type: 'type', text: 'a\x1b[31mb\x07\x7f\x9bc\td' }, ctx);
    expect(dirty).toMatchObject({ mode: 'filter', draft: 'a[31mbcd' });
  });

  it('s cycles the sort key and q sets quit', () => {
    expect(act(initialUiState, 'sort').sortKey).toBe(nextSortKey(initialUiState.sortKey));
    expect(act(initialUiState, 'quit').quit).toBe(true);
  });
});
