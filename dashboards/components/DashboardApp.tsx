// The live container: subscribes to the store's throttled snapshots, owns the UI state and
// turns key presses into actions through the key-binding table.
import { useInput, useStdout, type Key } from 'ink';
import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { DashboardStore } from '../dashboard-store.js';
import type { ModelView } from '../display-types.js';
import { PLAIN_KEY, resolveAction } from '../keybindings.js';
import { filterRows, sortRows } from '../table-order.js';
import { effectiveSelection, initialUiState, uiReduce, type UiEvent, type UiState } from '../ui-state.js';
import { Dashboard } from './Dashboard.js';

export interface DashboardAppProps<S> {
  store: DashboardStore<S>;
  select: (state: S) => ModelView;
  /** Called once when the user asks to quit (q, Esc, Ctrl-C). */
  onQuit: () => void;
  /** False when stdin is not a terminal: ink cannot read keys without raw mode. */
  interactive?: boolean;
}

function useTerminalSize(): { width: number; height: number } {
  const { stdout } = useStdout();
  const read = () => ({ width: stdout.columns || 100, height: stdout.rows || 30 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}

export function DashboardApp<S>({ store, select, onQuit, interactive = true }: DashboardAppProps<S>) {
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const view = useMemo(() => select(snapshot.state), [select, snapshot.state]);
  const [ui, setUi] = useState<UiState>(initialUiState);
  // Several keys can arrive in one read (a paste, tmux send-keys): each must see the last one's
  // result, so the handler works on a ref rather than the rendered state.
  const uiRef = useRef(ui);
  const { width, height } = useTerminalSize();

  const rows = useMemo(() => sortRows(filterRows(view.rows, ui.filter), ui.sortKey), [view.rows, ui.filter, ui.sortKey]);
  const ctx = useMemo(() => ({ visibleKeys: rows.map((r) => r.key) }), [rows]);
  const selectedKey = effectiveSelection(ui, ctx);
  const detail = ui.mode === 'detail' && ui.selectedKey !== null ? view.detail(ui.selectedKey) : null;

  const ctxRef = useRef(ctx);
  ctxRef.current = ctx;

  const press = (input: string, key: Key): void => {
    const cur = uiRef.current;
    const action = resolveAction(cur.mode, input, key);
    let ev: UiEvent | null = null;
    if (action !== null) ev = { type: 'action', action };
    else if (cur.mode === 'filter' && input !== '' && !key.ctrl && !key.meta) ev = { type: 'type', text: input };
    if (ev === null) return;
    if (action === 'pause') store.togglePause();
    const next = uiReduce(cur, ev, ctxRef.current);
    uiRef.current = next;
    setUi(next);
    if (next.quit && !cur.quit) onQuit();
  };

  useInput(
    (input, key) => {
      // Keys typed faster than the terminal is read arrive as one chunk ("jq"): outside the filter
      // prompt each character is its own key press; once a character opens the prompt, the rest
      // of the chunk is typed into it.
      const inFilter = (): boolean => uiRef.current.mode === 'filter';
      if (input.length <= 1 || key.ctrl || key.meta || inFilter()) {
        press(input, key);
        return;
      }
      const chars = [...input];
      for (let i = 0; i < chars.length; i++) {
        if (inFilter()) {
          press(chars.slice(i).join(''), PLAIN_KEY);
          return;
        }
        press(chars[i]!, PLAIN_KEY);
      }
    },
    { isActive: interactive },
  );

  return (
    <Dashboard
      stats={snapshot.stats}
      rows={rows}
      mmCount={view.rows.length}
      findings={view.findings}
      detail={detail}
      ui={ui}
      selectedKey={selectedKey}
      width={width}
      height={height}
      hosts={view.hosts}
    />
  );
}
