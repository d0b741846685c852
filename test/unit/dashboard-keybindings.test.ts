import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { footerItems, KEY_BINDINGS, resolveAction, type KeySpec, type Mode } from '../../dashboards/keybindings.js';

const noKey: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
} as Key;

/** What ink would report for a key spec. */
function press(spec: KeySpec): [string, Key] {
  if ('named' in spec) return ['', { ...noKey, [spec.named]: true }];
  return [spec.char, { ...noKey, ctrl: spec.ctrl === true }];
}

const MODES: Mode[] = ['table', 'detail', 'filter'];

describe('key bindings', () => {
  it('maps the documented keys in table mode', () => {
    expect(resolveAction('table', 'j', noKey)).toBe('down');
    expect(resolveAction('table', '', { ...noKey, downArrow: true })).toBe('down');
    expect(resolveAction('table', 'k', noKey)).toBe('up');
    expect(resolveAction('table', '', { ...noKey, upArrow: true })).toBe('up');
    expect(resolveAction('table', '', { ...noKey, return: true })).toBe('open');
    expect(resolveAction('table', 's', noKey)).toBe('sort');
    expect(resolveAction('table', 'f', noKey)).toBe('filter');
    expect(resolveAction('table', 'p', noKey)).toBe('pause');
    expect(resolveAction('table', 'q', noKey)).toBe('quit');
    expect(resolveAction('table', '', { ...noKey, escape: true })).toBe('quit');
    expect(resolveAction('table', 'x', noKey)).toBeNull();
  });

  it('Esc goes back from the detail pane and cancels a filter instead of quitting', () => {
    expect(resolveAction('detail', '', { ...noKey, escape: true })).toBe('back');
    expect(resolveAction('filter', '', { ...noKey, escape: true })).toBe('filterCancel');
  });

  it('letters are text while typing a filter, but Ctrl-C still quits', () => {
    for (const ch of ['q', 'j', 's', 'f', 'p']) expect(resolveAction('filter', ch, noKey)).toBeNull();
    for (const mode of MODES) expect(resolveAction(mode, 'c', { ...noKey, ctrl: true })).toBe('quit');
  });

  it('every footer entry is produced by a binding whose keys resolve to its action', () => {
    for (const mode of MODES) {
      const items = footerItems(mode);
      expect(items.length).toBeGreaterThan(0);
      const shown = KEY_BINDINGS.filter((b) => b.modes.includes(mode) && b.hint !== undefined);
      expect(items).toEqual(shown.map((b) => ({ hint: b.hint, label: b.label })));
      for (const b of shown) for (const spec of b.keys) expect(resolveAction(mode, ...press(spec))).toBe(b.action);
    }
  });

  it('changing the table changes both input and footer', () => {
    const custom = [{ keys: [{ char: 'x' }], hint: 'x', label: 'exit', action: 'quit' as const, modes: ['table' as Mode] }];
    expect(resolveAction('table', 'x', noKey, custom)).toBe('quit');
    expect(resolveAction('table', 'q', noKey, custom)).toBeNull();
    expect(footerItems('table', custom)).toEqual([{ hint: 'x', label: 'exit' }]);
  });
});
