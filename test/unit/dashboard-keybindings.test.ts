import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { footerItems, KEY_BINDINGS, PLAIN_KEY, resolveAction, type KeySpec, type Mode } from '../../dashboards/keybindings.js';

/** What ink would report for a key spec. */
function press(spec: KeySpec): [string, Key] {
  if ('named' in spec) return ['', { ...PLAIN_KEY, [spec.named]: true }];
  return [spec.char, { ...PLAIN_KEY, ctrl: spec.ctrl === true }];
}

const MODES: Mode[] = ['table', 'detail', 'filter'];

describe('key bindings', () => {
  it('maps the documented keys in table mode', () => {
    expect(resolveAction('table', 'j', PLAIN_KEY)).toBe('down');
    expect(resolveAction('table', '', { ...PLAIN_KEY, downArrow: true })).toBe('down');
    expect(resolveAction('table', 'k', PLAIN_KEY)).toBe('up');
    expect(resolveAction('table', '', { ...PLAIN_KEY, upArrow: true })).toBe('up');
    expect(resolveAction('table', '', { ...PLAIN_KEY, return: true })).toBe('open');
    expect(resolveAction('table', 's', PLAIN_KEY)).toBe('sort');
    expect(resolveAction('table', 'f', PLAIN_KEY)).toBe('filter');
    expect(resolveAction('table', 'p', PLAIN_KEY)).toBe('pause');
    expect(resolveAction('table', 'q', PLAIN_KEY)).toBe('quit');
    expect(resolveAction('table', '', { ...PLAIN_KEY, escape: true })).toBe('quit');
    expect(resolveAction('table', 'x', PLAIN_KEY)).toBeNull();
  });

  it('Esc goes back from the detail pane and cancels a filter instead of quitting', () => {
    expect(resolveAction('detail', '', { ...PLAIN_KEY, escape: true })).toBe('back');
    expect(resolveAction('filter', '', { ...PLAIN_KEY, escape: true })).toBe('filterCancel');
  });

  it('letters are text while typing a filter, but Ctrl-C still quits', () => {
    for (const ch of ['q', 'j', 's', 'f', 'p']) expect(resolveAction('filter', ch, PLAIN_KEY)).toBeNull();
    for (const mode of MODES) expect(resolveAction(mode, 'c', { ...PLAIN_KEY, ctrl: true })).toBe('quit');
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
    expect(resolveAction('table', 'x', PLAIN_KEY, custom)).toBe('quit');
    expect(resolveAction('table', 'q', PLAIN_KEY, custom)).toBeNull();
    expect(footerItems('table', custom)).toEqual([{ hint: 'x', label: 'exit' }]);
  });
});
