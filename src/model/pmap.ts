// A small persistent (immutable) hash map with structural sharing: a bitmap-compressed hash
// array mapped trie (HAMT). The reducer must not mutate its input state, and copying a plain
// object of thousands of mms on every event would cost O(n); here an update copies only the
// nodes on its path. Each node holds only the slots it uses (a bitmap says which), and entries
// sit in their parent's slot array as key/value pairs rather than in objects of their own: the
// small maps copy a few slots per update, and a big map costs ~3 words per entry.

const BITS = 5;
const MASK = (1 << BITS) - 1;
/** Past this shift the 32 hash bits are used up: keys with equal hashes share a collision node. */
const MAX_SHIFT = 30;

/**
 * Slots come in pairs: [key, value] for an entry, [null, child node] for a subtree. Keys are
 * strings or numbers, so null is never a key.
 */
interface Branch {
  readonly t: 2;
  readonly bitmap: number;
  readonly slots: readonly unknown[];
}
interface Collision {
  readonly t: 1;
  readonly hash: number;
  readonly keys: readonly PKey[];
  readonly values: readonly unknown[];
}
type Node = Branch | Collision;

/**
 * A key: a string (hex addresses, mm keys) or a small integer (pids: no string per entry, which
 * was ~32 bytes per live process).
 */
export type PKey = string | number;

/** FNV-1a on strings; an integer mix (murmur3's finalizer) on numbers. */
function hashKey(key: PKey): number {
  if (typeof key === 'number') {
    let x = key | 0;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    return (x ^ (x >>> 16)) >>> 0;
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

export interface PMap<V> {
  readonly root: Node | undefined;
  readonly size: number;
  /** Phantom: ties the map to its value type. */
  readonly _v?: V;
}

export function emptyPMap<V>(): PMap<V> {
  return { root: undefined, size: 0 };
}

export function pget<V>(map: PMap<V>, key: PKey): V | undefined {
  let node = map.root;
  if (node === undefined) return undefined;
  const hash = hashKey(key);
  let shift = 0;
  for (;;) {
    if (node.t === 1) {
      const i = node.hash === hash ? node.keys.indexOf(key) : -1;
      return i < 0 ? undefined : (node.values[i] as V);
    }
    const bit = 1 << ((hash >>> shift) & MASK);
    if ((node.bitmap & bit) === 0) return undefined;
    const i = 2 * popcount(node.bitmap & (bit - 1));
    const k = node.slots[i];
    if (k !== null) return k === key ? (node.slots[i + 1] as V) : undefined;
    node = node.slots[i + 1] as Node;
    shift += BITS;
  }
}

export function pset<V>(map: PMap<V>, key: PKey, value: V): PMap<V> {
  const added = { value: false };
  const hash = hashKey(key);
  const root = map.root === undefined ? single(hash, key, value, 0, added) : insert(map.root, 0, hash, key, value, added);
  return root === map.root ? map : { root, size: map.size + (added.value ? 1 : 0) };
}

function single(hash: number, key: PKey, value: unknown, shift: number, added: { value: boolean }): Branch {
  added.value = true;
  return { t: 2, bitmap: 1 << ((hash >>> shift) & MASK), slots: [key, value] };
}

/** A node holding two entries whose hashes agree below `shift`. */
function pair(h1: number, k1: PKey, v1: unknown, h2: number, k2: PKey, v2: unknown, shift: number): Node {
  if (shift > MAX_SHIFT) return { t: 1, hash: h1, keys: [k1, k2], values: [v1, v2] };
  const i1 = (h1 >>> shift) & MASK;
  const i2 = (h2 >>> shift) & MASK;
  if (i1 === i2) return { t: 2, bitmap: 1 << i1, slots: [null, pair(h1, k1, v1, h2, k2, v2, shift + BITS)] };
  return { t: 2, bitmap: (1 << i1) | (1 << i2), slots: i1 < i2 ? [k1, v1, k2, v2] : [k2, v2, k1, v1] };
}

function withSlot(node: Branch, i: number, a: unknown, b: unknown): Branch {
  const slots = node.slots.slice();
  slots[i] = a;
  slots[i + 1] = b;
  return { t: 2, bitmap: node.bitmap, slots };
}

function insert(node: Node, shift: number, hash: number, key: PKey, value: unknown, added: { value: boolean }): Node {
  if (node.t === 1) {
    // Only at full depth, so the hash is the same.
    const i = node.keys.indexOf(key);
    if (i >= 0) {
      if (node.values[i] === value) return node;
      const values = node.values.slice();
      values[i] = value;
      return { t: 1, hash, keys: node.keys, values };
    }
    added.value = true;
    return { t: 1, hash, keys: [...node.keys, key], values: [...node.values, value] };
  }
  const bit = 1 << ((hash >>> shift) & MASK);
  const i = 2 * popcount(node.bitmap & (bit - 1));
  if ((node.bitmap & bit) === 0) {
    added.value = true;
    const old = node.slots;
    const slots = new Array<unknown>(old.length + 2);
    for (let j = 0; j < i; j++) slots[j] = old[j];
    slots[i] = key;
    slots[i + 1] = value;
    for (let j = i; j < old.length; j++) slots[j + 2] = old[j];
    return { t: 2, bitmap: node.bitmap | bit, slots };
  }
  const k = node.slots[i] as PKey | null;
  const v = node.slots[i + 1];
  if (k === null) {
    const child = v as Node;
    const updated = insert(child, shift + BITS, hash, key, value, added);
    return updated === child ? node : withSlot(node, i, null, updated);
  }
  if (k === key) return v === value ? node : withSlot(node, i, key, value);
  added.value = true;
  return withSlot(node, i, null, pair(hashKey(k), k, v, hash, key, value, shift + BITS));
}

export function pdelete<V>(map: PMap<V>, key: PKey): PMap<V> {
  if (map.root === undefined) return map;
  const root = remove(map.root, 0, hashKey(key), key);
  if (root === map.root) return map;
  return { root: root ?? undefined, size: map.size - 1 };
}

/** A node that is a single entry can move up into its parent's slot. */
function soleEntry(node: Node): [PKey, unknown] | null {
  if (node.t === 1) return node.keys.length === 1 ? [node.keys[0]!, node.values[0]] : null;
  return node.slots.length === 2 && node.slots[0] !== null ? [node.slots[0] as PKey, node.slots[1]] : null;
}

/** The node without key: the same node when key is absent, null when nothing is left. */
function remove(node: Node, shift: number, hash: number, key: PKey): Node | null {
  if (node.t === 1) {
    const i = node.hash === hash ? node.keys.indexOf(key) : -1;
    if (i < 0) return node;
    if (node.keys.length === 1) return null;
    return { t: 1, hash, keys: node.keys.filter((_, j) => j !== i), values: node.values.filter((_, j) => j !== i) };
  }
  const bit = 1 << ((hash >>> shift) & MASK);
  if ((node.bitmap & bit) === 0) return node;
  const i = 2 * popcount(node.bitmap & (bit - 1));
  const k = node.slots[i] as PKey | null;
  if (k === null) {
    const child = node.slots[i + 1] as Node;
    const updated = remove(child, shift + BITS, hash, key);
    if (updated === child) return node;
    if (updated !== null) {
      // Collapse a subtree left with one entry so lookups stay short after churn.
      const sole = soleEntry(updated);
      return sole === null ? withSlot(node, i, null, updated) : withSlot(node, i, sole[0], sole[1]);
    }
  } else if (k !== key) {
    return node;
  }
  if (node.slots.length === 2) return null;
  const slots = node.slots.slice();
  slots.splice(i, 2);
  return { t: 2, bitmap: node.bitmap & ~bit, slots };
}

export function* pvalues<V>(map: PMap<V>): Generator<V> {
  for (const [, v] of pentries(map)) yield v;
}

export function* pentries<V>(map: PMap<V>): Generator<readonly [PKey, V]> {
  const stack: Node[] = map.root === undefined ? [] : [map.root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.t === 1) {
      for (let i = 0; i < node.keys.length; i++) yield [node.keys[i]!, node.values[i] as V];
      continue;
    }
    for (let i = node.slots.length - 2; i >= 0; i -= 2) {
      const k = node.slots[i] as PKey | null;
      if (k === null) stack.push(node.slots[i + 1] as Node);
    }
    for (let i = 0; i < node.slots.length; i += 2) {
      const k = node.slots[i] as PKey | null;
      if (k !== null) yield [k, node.slots[i + 1] as V];
    }
  }
}
