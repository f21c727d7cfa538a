/**
 * The one per-process cache (shared/lib/versioned-cache.ts; docs/design.md §3): bounded, least
 * recently used dropped first (issue 15); a value reused while its source's version stands, loaded
 * afresh when it moves; a failed load holds nothing; callers waiting on the same key and version
 * share one load.
 */
import { describe, expect, it } from 'vitest';
import { cachePerSource, LruCache, VersionedCache } from '../../../shared/lib/versioned-cache.js';

describe('LruCache', () => {
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

/** A source whose value and version the test moves, counting its loads. */
function source(initial: string) {
  const s = {
    value: initial,
    version: 1,
    loads: 0,
    load: async () => {
      s.loads++;
      return { value: s.value, version: s.version };
    },
  };
  return s;
}

describe('VersionedCache', () => {
  it('reuses the value while the version stands and loads afresh when it moves', async () => {
    const cache = new VersionedCache<string, string, number>({ capacity: 4 });
    const src = source('first');
    expect(await cache.get('k', src.version, src.load)).toBe('first');
    expect(await cache.get('k', src.version, src.load)).toBe('first');
    expect(src.loads).toBe(1);
    src.value = 'second';
    src.version = 2;
    expect(await cache.get('k', src.version, src.load)).toBe('second');
    expect(src.loads).toBe(2);
    expect(cache.peek('k', 2)).toBe('second');
    expect(cache.peek('k', 1)).toBeUndefined();
  });

  it('answers an older version with a newer value when told that is current', async () => {
    const cache = new VersionedCache<string, string, number>({
      capacity: 4,
      current: (held, wanted) => held >= wanted,
    });
    cache.set('k', 7, 'seven');
    expect(await cache.get('k', 6, async () => ({ value: 'reloaded', version: 6 }))).toBe('seven');
    // A slower load finishing with an older version does not replace the newer value held.
    cache.set('k', 5, 'five');
    expect(cache.peek('k', 7)).toBe('seven');
  });

  it('holds at most its capacity of keys, the least recently used dropped first', async () => {
    const cache = new VersionedCache<string, string, number>({ capacity: 2 });
    const src = source('v');
    await cache.get('a', 1, src.load);
    await cache.get('b', 1, src.load);
    await cache.get('a', 1, src.load);
    await cache.get('c', 1, src.load);
    expect(src.loads).toBe(3);
    expect(cache.size).toBe(2);
    expect([...cache.keys()].sort()).toEqual(['a', 'c']);
  });

  it('holds nothing from a load that fails, or one that finds nothing (and forgets what it held)', async () => {
    const cache = new VersionedCache<string, string, number>({ capacity: 4 });
    await expect(
      cache.get('k', 1, async () => {
        throw new Error('S3 is down');
      }),
    ).rejects.toThrow('S3 is down');
    expect(cache.size).toBe(0);
    const src = source('back');
    expect(await cache.get('k', 1, src.load)).toBe('back');
    expect(src.loads).toBe(1);
    expect(await cache.get('k', 2, async () => undefined)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('shares one load between callers asking for the same key and version at once', async () => {
    const cache = new VersionedCache<string, string, number>({ capacity: 4 });
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const load = async () => {
      loads++;
      await gate;
      return { value: 'shared', version: 1 };
    };
    const waiting = [cache.get('k', 1, load), cache.get('k', 1, load), cache.get('k', 1, load)];
    // Another version is another load.
    const other = cache.get('k', 2, async () => ({ value: 'two', version: 2 }));
    release();
    expect(await Promise.all(waiting)).toEqual(['shared', 'shared', 'shared']);
    expect(await other).toBe('two');
    expect(loads).toBe(1);
  });

  it('shares a failure with those waiting on it, then loads again for the next caller', async () => {
    const cache = new VersionedCache<string, string, number>({ capacity: 4 });
    let loads = 0;
    const failing = async () => {
      loads++;
      await Promise.resolve();
      throw new Error('timeout');
    };
    const both = await Promise.allSettled([cache.get('k', 1, failing), cache.get('k', 1, failing)]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(loads).toBe(1);
    expect(await cache.get('k', 1, async () => ({ value: 'ok', version: 1 }))).toBe('ok');
  });
});

describe('cachePerSource', () => {
  it('gives each source its own cache, the same one every time', () => {
    const of = cachePerSource<object, VersionedCache<string, string, number>>(
      () => new VersionedCache({ capacity: 1 }),
    );
    const a = {};
    const b = {};
    expect(of(a)).toBe(of(a));
    expect(of(a)).not.toBe(of(b));
  });
});
