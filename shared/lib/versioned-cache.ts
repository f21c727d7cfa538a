/**
 * The one per-process cache (docs/design.md §3, "Per-process copies"): a value computed from a
 * source, held by key and reused while the source's version (a view pointer's number, a version
 * stamp, an ETag, a run id) says it is current; bounded, the least recently used dropped first
 * (issue 15: a warm instance's caches must not grow with every school, year or period asked for).
 *
 * The rule every user keeps: read the version first, then load, and hold what was loaded under the
 * version read (or the one the value itself carries). What is held is then at least as new as the
 * version it is kept under. A load that fails or finds nothing is not held; callers that ask for the
 * same key and version while a load is under way share that load.
 */

/** A map that holds at most `capacity` entries, dropping the least recently used first. */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, not ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** The entry, now the most recently used. */
  get(key: K): V | undefined {
    if (!this.entries.has(key)) return undefined;
    const value = this.entries.get(key) as V;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): this {
    this.entries.delete(key);
    this.entries.set(key, value);
    // A Map iterates in insertion order: the first key is the least recently used.
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
    return this;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  keys(): IterableIterator<K> {
    return this.entries.keys();
  }

  clear(): void {
    this.entries.clear();
  }
}

/** What a load found: the value and the version it is current for. */
export type Loaded<V, S> = { value: V; version: S };

export interface VersionedCacheOptions<S> {
  /** Most keys held. */
  capacity: number;
  /**
   * Whether a value held at version `held` answers a caller who read version `wanted` (default: the
   * same version). A view held at version 7 answers a pointer at 6: `(held, wanted) => held >= wanted`.
   */
  current?: (held: S, wanted: S) => boolean;
}

export class VersionedCache<K, V, S> {
  private readonly held: LruCache<K, Loaded<V, S>>;
  private readonly loading = new Map<K, { wanted: S; load: Promise<V | undefined> }>();
  private readonly current: (held: S, wanted: S) => boolean;

  constructor(options: VersionedCacheOptions<S>) {
    this.held = new LruCache(options.capacity);
    this.current = options.current ?? ((held, wanted) => held === wanted);
  }

  get size(): number {
    return this.held.size;
  }

  /** The value held for `key` if it is current for `wanted`. */
  peek(key: K, wanted: S): V | undefined {
    const entry = this.held.get(key);
    return entry && this.current(entry.version, wanted) ? entry.value : undefined;
  }

  /**
   * The value for `key` current for `wanted`: the one held, else `load`'s (held under the version it
   * answers). `load` answering undefined (nothing there) forgets the key; a load that throws holds nothing.
   */
  async get(key: K, wanted: S, load: () => Promise<Loaded<V, S> | undefined>): Promise<V | undefined> {
    const hit = this.peek(key, wanted);
    if (hit !== undefined) return hit;
    const under = this.loading.get(key);
    if (under && this.current(under.wanted, wanted)) return under.load;
    const mine = {
      wanted,
      load: load().then((loaded) => {
        if (!loaded) this.held.delete(key);
        else this.set(key, loaded.version, loaded.value);
        return loaded?.value;
      }),
    };
    this.loading.set(key, mine);
    try {
      return await mine.load;
    } finally {
      if (this.loading.get(key) === mine) this.loading.delete(key);
    }
  }

  /** Hold `value` at `version`, unless what is held is newer (a slower load finishing after a faster one). */
  set(key: K, version: S, value: V): void {
    const entry = this.held.get(key);
    if (entry && this.current(entry.version, version) && !this.current(version, entry.version)) return;
    this.held.set(key, { value, version });
  }

  delete(key: K): void {
    this.held.delete(key);
  }

  keys(): IterableIterator<K> {
    return this.held.keys();
  }

  clear(): void {
    this.held.clear();
  }
}

/**
 * One cache per source object (a port's adapter), made on first use: a use case tested against an
 * in-memory store never sees what another store's instance held.
 */
export function cachePerSource<O extends object, C>(make: () => C): (source: O) => C {
  const bySource = new WeakMap<O, C>();
  return (source) => {
    let cache = bySource.get(source);
    if (!cache) bySource.set(source, (cache = make()));
    return cache;
  };
}
