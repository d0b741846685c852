// A small persistent (immutable) hash map with structural sharing: a 32-way hash trie.
// The reducer must not mutate its input state, and copying a plain object of thousands of
// mms on every event would cost O(n); here an update copies only the ~2–3 nodes on its path.

type Entry<V> = readonly [string, V];
interface Leaf<V> {
  readonly leaf: true;
  readonly hash: number;
  /** More than one entry only on a full 32-bit hash collision. */
  readonly entries: readonly Entry<V>[];
}
interface Branch<V> {
  readonly leaf: false;
  readonly children: readonly (Node<V> | undefined)[];
}
type Node<V> = Leaf<V> | Branch<V>;

const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;
/** Past this shift the hash bits are used up; colliding keys share one leaf. */
const MAX_SHIFT = 30;

/** FNV-1a: fast on the short keys we use (hex addresses, pids). */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export interface PMap<V> {
  readonly root: Node<V> | undefined;
  readonly size: number;
}

export function emptyPMap<V>(): PMap<V> {
  return { root: undefined, size: 0 };
}

export function pget<V>(map: PMap<V>, key: string): V | undefined {
  const hash = hashKey(key);
  let node = map.root;
  let shift = 0;
  while (node !== undefined) {
    if (node.leaf) {
      if (node.hash !== hash) return undefined;
      for (const [k, v] of node.entries) if (k === key) return v;
      return undefined;
    }
    node = node.children[(hash >>> shift) & MASK];
    shift += BITS;
  }
  return undefined;
}

export function phas<V>(map: PMap<V>, key: string): boolean {
  return pget(map, key) !== undefined;
}

export function pset<V>(map: PMap<V>, key: string, value: V): PMap<V> {
  const hash = hashKey(key);
  const added = { value: false };
  const root = insert(map.root, 0, hash, key, value, added);
  return { root, size: map.size + (added.value ? 1 : 0) };
}

function insert<V>(node: Node<V> | undefined, shift: number, hash: number, key: string, value: V, added: { value: boolean }): Node<V> {
  if (node === undefined) {
    added.value = true;
    return { leaf: true, hash, entries: [[key, value]] };
  }
  if (node.leaf) {
    if (node.hash === hash) {
      const idx = node.entries.findIndex(([k]) => k === key);
      const entries = node.entries.slice();
      if (idx >= 0) entries[idx] = [key, value];
      else {
        entries.push([key, value]);
        added.value = true;
      }
      return { leaf: true, hash, entries };
    }
    if (shift > MAX_SHIFT) {
      // Unreachable in practice (distinct 32-bit hashes differ within 35 bits); kept total.
      added.value = true;
      return { leaf: true, hash: node.hash, entries: [...node.entries, [key, value]] };
    }
    // Push the existing leaf one level down, then insert beside it.
    const children: (Node<V> | undefined)[] = new Array(WIDTH);
    children[(node.hash >>> shift) & MASK] = node;
    const branch: Branch<V> = { leaf: false, children };
    return insert(branch, shift, hash, key, value, added);
  }
  const idx = (hash >>> shift) & MASK;
  const children = node.children.slice();
  children[idx] = insert(node.children[idx], shift + BITS, hash, key, value, added);
  return { leaf: false, children };
}

export function pdelete<V>(map: PMap<V>, key: string): PMap<V> {
  if (!phas(map, key)) return map;
  const hash = hashKey(key);
  return { root: remove(map.root, 0, hash, key), size: map.size - 1 };
}

function remove<V>(node: Node<V> | undefined, shift: number, hash: number, key: string): Node<V> | undefined {
  if (node === undefined) return undefined;
  if (node.leaf) {
    const entries = node.entries.filter(([k]) => k !== key);
    return entries.length === 0 ? undefined : { leaf: true, hash: node.hash, entries };
  }
  const idx = (hash >>> shift) & MASK;
  const child = remove(node.children[idx], shift + BITS, hash, key);
  const children = node.children.slice();
  children[idx] = child;
  // Collapse a branch left with a single leaf so lookups stay short after churn.
  let only: Node<V> | undefined;
  let count = 0;
  for (const c of children) {
    if (c !== undefined) {
      count++;
      only = c;
    }
  }
  if (count === 0) return undefined;
  if (count === 1 && only !== undefined && only.leaf) return only;
  return { leaf: false, children };
}

export function* pvalues<V>(map: PMap<V>): Generator<V> {
  for (const [, v] of pentries(map)) yield v;
}

export function* pentries<V>(map: PMap<V>): Generator<Entry<V>> {
  const stack: (Node<V> | undefined)[] = [map.root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === undefined) continue;
    if (node.leaf) yield* node.entries;
    else for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]);
  }
}
