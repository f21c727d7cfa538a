import { describe, expect, it } from 'vitest';
import { LruCache } from '../../../functions/api/lru.js';

describe("the API's per-instance caches (issue 15)", () => {
  it('never holds more entries than its capacity, dropping the least recently used first', () => {
    const cache = new LruCache<string, number>(3);
    for (const [i, key] of ['a', 'b', 'c', 'd', 'e'].entries()) cache.set(key, i);
    expect(cache.size).toBe(3);
    expect([cache.has('a'), cache.has('b'), cache.get('c'), cache.get('d'), cache.get('e')]).toEqual([
      false,
      false,
      2,
      3,
      4,
    ]);
  });

  it('counts a read as a use: the entry read last survives the next insertion', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('old', 1).set('new', 2);
    expect(cache.get('old')).toBe(1);
    cache.set('third', 3);
    expect([cache.get('old'), cache.has('new'), cache.get('third')]).toEqual([1, false, 3]);
  });

  it('replaces a key without growing, and refuses a capacity that is not a positive integer', () => {
    const cache = new LruCache<string, number>(1);
    cache.set('k', 1).set('k', 2);
    expect([cache.size, cache.get('k')]).toEqual([1, 2]);
    expect(() => new LruCache(0)).toThrow(RangeError);
    expect(() => new LruCache(1.5)).toThrow(RangeError);
  });
});
