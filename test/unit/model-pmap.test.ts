// The persistent map against a plain Map: random inserts, overwrites and deletes, and every
// earlier version still reads as it did.
import { describe, expect, it } from 'vitest';
import { emptyPMap, pdelete, pentries, pget, pset, type PMap } from '../../src/model/pmap.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('pmap', () => {
  it('matches a Map through random churn and keeps old versions intact', () => {
    const rand = lcg(7);
    let m: PMap<number> = emptyPMap();
    const ref = new Map<string, number>();
    const versions: [PMap<number>, Map<string, number>][] = [];
    for (let i = 0; i < 20_000; i++) {
      const key = `0xffff8881${Math.floor(rand() * 3000).toString(16)}`;
      if (rand() < 0.4) {
        m = pdelete(m, key);
        ref.delete(key);
      } else {
        m = pset(m, key, i);
        ref.set(key, i);
      }
      if (i % 2000 === 0) versions.push([m, new Map(ref)]);
      expect(m.size).toBe(ref.size);
    }
    for (const [k, v] of ref) expect(pget(m, k)).toBe(v);
    expect(new Map(pentries(m))).toEqual(ref);
    for (const [old, snapshot] of versions) expect(new Map(pentries(old))).toEqual(snapshot);
  });

  it('deleting an absent key or setting an equal value returns the same map', () => {
    const m = pset(pset(emptyPMap<string>(), 'a', 'x'), 'b', 'y');
    expect(pdelete(m, 'zzz')).toBe(m);
    expect(pset(m, 'a', 'x').root).toBe(m.root);
    expect(pget(pdelete(pdelete(m, 'a'), 'b'), 'a')).toBeUndefined();
  });
});
