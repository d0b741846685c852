// Key bindings as data: the same table drives input handling (resolveAction) and the footer
// (footerItems), so the footer can never advertise a key that does nothing.
import type { Key } from 'ink';

/** Which part of the dashboard has the keyboard. */
export type Mode = 'table' | 'detail' | 'filter';

export type Action = 'quit' | 'up' | 'down' | 'open' | 'back' | 'filter' | 'sort' | 'pause' | 'filterApply' | 'filterCancel' | 'filterDelete';

/** One physical key: a printable character, a named key, or Ctrl+character. */
export type KeySpec = { char: string; ctrl?: boolean } | { named: 'upArrow' | 'downArrow' | 'return' | 'escape' | 'backspace' | 'delete' };

export interface KeyBinding {
  keys: KeySpec[];
  /** How the footer writes the keys, e.g. "j/k". Omitted bindings are not shown. */
  hint?: string;
  label: string;
  action: Action;
  modes: Mode[];
}

const ALL_MODES: Mode[] = ['table', 'detail', 'filter'];

export const KEY_BINDINGS: readonly KeyBinding[] = [
  { keys: [{ char: 'j' }, { named: 'downArrow' }], hint: 'j/↓', label: 'down', action: 'down', modes: ['table', 'detail'] },
  { keys: [{ char: 'k' }, { named: 'upArrow' }], hint: 'k/↑', label: 'up', action: 'up', modes: ['table', 'detail'] },
  { keys: [{ named: 'return' }], hint: 'Enter', label: 'details', action: 'open', modes: ['table'] },
  { keys: [{ named: 'escape' }], hint: 'Esc', label: 'back', action: 'back', modes: ['detail'] },
  { keys: [{ char: 's' }], hint: 's', label: 'sort', action: 'sort', modes: ['table'] },
  { keys: [{ char: 'f' }], hint: 'f', label: 'filter', action: 'filter', modes: ['table'] },
  { keys: [{ char: 'p' }], hint: 'p', label: 'pause', action: 'pause', modes: ['table', 'detail'] },
  { keys: [{ char: 'q' }, { named: 'escape' }], hint: 'q/Esc', label: 'quit', action: 'quit', modes: ['table'] },
  { keys: [{ char: 'q' }], hint: 'q', label: 'quit', action: 'quit', modes: ['detail'] },
  { keys: [{ named: 'return' }], hint: 'Enter', label: 'apply', action: 'filterApply', modes: ['filter'] },
  { keys: [{ named: 'escape' }], hint: 'Esc', label: 'cancel', action: 'filterCancel', modes: ['filter'] },
  { keys: [{ named: 'backspace' }, { named: 'delete' }], label: 'delete', action: 'filterDelete', modes: ['filter'] },
  // Ctrl-C quits in every mode, even while typing a filter (no other binding matches Ctrl).
  { keys: [{ char: 'c', ctrl: true }], hint: '^C', label: 'quit', action: 'quit', modes: ALL_MODES },
];

function matches(spec: KeySpec, input: string, key: Key): boolean {
  if ('named' in spec) return key[spec.named] === true;
  if (spec.ctrl) return key.ctrl && input === spec.char;
  return !key.ctrl && !key.meta && input === spec.char;
}

/** The action bound to a key press in a mode, or null (in filter mode: type the character). */
export function resolveAction(mode: Mode, input: string, key: Key, bindings: readonly KeyBinding[] = KEY_BINDINGS): Action | null {
  for (const b of bindings) {
    if (!b.modes.includes(mode)) continue;
    if (b.keys.some((spec) => matches(spec, input, key))) return b.action;
  }
  return null;
}

export interface FooterItem {
  hint: string;
  label: string;
}

/** What the footer shows in a mode, in table order, straight from the bindings. */
export function footerItems(mode: Mode, bindings: readonly KeyBinding[] = KEY_BINDINGS): FooterItem[] {
  return bindings.filter((b) => b.modes.includes(mode) && b.hint !== undefined).map((b) => ({ hint: b.hint!, label: b.label }));
}

/** A key press that is only its character: no arrows, no modifiers. */
export const PLAIN_KEY: Key = {
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
};
