// A small persistent (immutable) hash map with structural sharing: a bitmap-compressed hash
// array mapped trie (HAMT). The reducer must not mutate its input state, and copying a plain
// object of thousands of mms on every event would cost O(n); here an update copies only the
// nodes on its path, and each node holds only the children it has (a bitmap says which), so
// the small maps (pending execs, a few live mms) copy a few slots instead of 32 per level.

const BITS = 5;
const MASK = (1 << BITS) - 1;
/** Past this shift the 32 hash bits are used up: keys with equal hashes share a collision node. */
const MAX_SHIFT = 30;

interface Leaf<V> {
  readonly t: 0;
  readonly hash: number;
  readonly key: string;
  readonly value: V;
}
interface Collision<V> {
  readonly t: 1;
  readonly hash: number;
  readonly keys: readonly string[];
  readonly values: readonly V[];
}
interface Branch<V> {
  readonly t: 2;
  /** Bit i set: the child for hash chunk i is children[popcount(bitmap below i)]. */
  readonly bitmap: number;
  readonly children: readonly Node<V>[];
}
type Node<V> = Leaf<V> | Collision<V> | Branch<V>;

/** FNV-1a: fast on the short keys we use (hex addresses, pids). */
function hashKey(key: string): number {
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
  readonly root: Node<V> | undefined;
  readonly size: number;
}

export function emptyPMap<V>(): PMap<V> {
  return { root: undefined, size: 0 };
}

export function pget<V>(map: PMap<V>, key: string): V | undefined {
  let node = map.root;
  if (node === undefined) return undefined;
  const hash = hashKey(key);
  let shift = 0;
  for (;;) {
    if (node.t === 2) {
      const bit = 1 << ((hash >>> shift) & MASK);
      if ((node.bitmap & bit) === 0) return undefined;
      node = node.children[popcount(node.bitmap & (bit - 1))]!;
      shift += BITS;
    } else if (node.t === 0) {
      return node.key === key ? node.value : undefined;
    } else {
      if (node.hash !== hash) return undefined;
      const i = node.keys.indexOf(key);
      return i < 0 ? undefined : node.values[i];
    }
  }
}

export function phas<V>(map: PMap<V>, key: string): boolean {
  return pget(map, key) !== undefined;
}

export function pset<V>(map: PMap<V>, key: string, value: V): PMap<V> {
  const added = { value: false };
  const root = map.root === undefined ? leaf(hashKey(key), key, value, added) : insert(map.root, 0, hashKey(key), key, value, added);
  return { root, size: map.size + (added.value ? 1 : 0) };
}

function leaf<V>(hash: number, key: string, value: V, added: { value: boolean }): Leaf<V> {
  added.value = true;
  return { t: 0, hash, key, value };
}

/** A branch holding two nodes whose hashes differ at or below `shift`. */
function pair<V>(a: Leaf<V> | Collision<V>, b: Leaf<V>, shift: number): Node<V> {
  if (shift > MAX_SHIFT) {
    // Unreachable in practice (distinct hashes differ within 32 bits); kept total.
    const keys = a.t === 0 ? [a.key] : [...a.keys];
    const values = a.t === 0 ? [a.value] : [...a.values];
    return { t: 1, hash: a.hash, keys: [...keys, b.key], values: [...values, b.value] };
  }
  const ia = (a.hash >>> shift) & MASK;
  const ib = (b.hash >>> shift) & MASK;
  if (ia === ib) return { t: 2, bitmap: 1 << ia, children: [pair(a, b, shift + BITS)] };
  return { t: 2, bitmap: (1 << ia) | (1 << ib), children: ia < ib ? [a, b] : [b, a] };
}

function insert<V>(node: Node<V>, shift: number, hash: number, key: string, value: V, added: { value: boolean }): Node<V> {
  if (node.t === 0) {
    if (node.key === key) return node.value === value ? node : { t: 0, hash, key, value };
    if (node.hash === hash) {
      added.value = true;
      return { t: 1, hash, keys: [node.key, key], values: [node.value, value] };
    }
    return pair(node, leaf(hash, key, value, added), shift);
  }
  if (node.t === 1) {
    if (node.hash !== hash) return pair(node, leaf(hash, key, value, added), shift);
    const i = node.keys.indexOf(key);
    if (i >= 0) {
      const values = node.values.slice();
      values[i] = value;
      return { t: 1, hash, keys: node.keys, values };
    }
    added.value = true;
    return { t: 1, hash, keys: [...node.keys, key], values: [...node.values, value] };
  }
  const bit = 1 << ((hash >>> shift) & MASK);
  const idx = popcount(node.bitmap & (bit - 1));
  const children = node.children;
  if ((node.bitmap & bit) === 0) {
    const next = new Array<Node<V>>(children.length + 1);
    for (let i = 0; i < idx; i++) next[i] = children[i]!;
    next[idx] = leaf(hash, key, value, added);
    for (let i = idx; i < children.length; i++) next[i + 1] = children[i]!;
    return { t: 2, bitmap: node.bitmap | bit, children: next };
  }
  const child = children[idx]!;
  const updated = insert(child, shift + BITS, hash, key, value, added);
  if (updated === child) return node;
  const next = children.slice();
  next[idx] = updated;
  return { t: 2, bitmap: node.bitmap, children: next };
}

export function pdelete<V>(map: PMap<V>, key: string): PMap<V> {
  if (map.root === undefined) return map;
  const root = remove(map.root, 0, hashKey(key), key);
  if (root === map.root) return map;
  return { root: root ?? undefined, size: map.size - 1 };
}

/** The node without key: the same node when key is absent, null when nothing is left. */
function remove<V>(node: Node<V>, shift: number, hash: number, key: string): Node<V> | null {
  if (node.t === 0) return node.key === key ? null : node;
  if (node.t === 1) {
    const i = node.hash === hash ? node.keys.indexOf(key) : -1;
    if (i < 0) return node;
    if (node.keys.length === 2) return { t: 0, hash, key: node.keys[1 - i]!, value: node.values[1 - i]! };
    return { t: 1, hash, keys: node.keys.filter((_, j) => j !== i), values: node.values.filter((_, j) => j !== i) };
  }
  const bit = 1 << ((hash >>> shift) & MASK);
  if ((node.bitmap & bit) === 0) return node;
  const idx = popcount(node.bitmap & (bit - 1));
  const child = node.children[idx]!;
  const updated = remove(child, shift + BITS, hash, key);
  if (updated === child) return node;
  if (updated === null) {
    if (node.children.length === 1) return null;
    // Collapse a branch left with a single leaf so lookups stay short after churn.
    if (node.children.length === 2) {
      const other = node.children[1 - idx]!;
      if (other.t !== 2) return other;
    }
    const next = node.children.slice();
    next.splice(idx, 1);
    return { t: 2, bitmap: node.bitmap & ~bit, children: next };
  }
  if (updated.t !== 2 && node.children.length === 1) return updated;
  const next = node.children.slice();
  next[idx] = updated;
  return { t: 2, bitmap: node.bitmap, children: next };
}

export function* pvalues<V>(map: PMap<V>): Generator<V> {
  for (const [, v] of pentries(map)) yield v;
}

export function* pentries<V>(map: PMap<V>): Generator<readonly [string, V]> {
  const stack: Node<V>[] = map.root === undefined ? [] : [map.root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.t === 0) yield [node.key, node.value];
    else if (node.t === 1) for (let i = 0; i < node.keys.length; i++) yield [node.keys[i]!, node.values[i]!];
    else for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
}
