/**
 * DynamoDB items by kind (bench/ingest-profile-phases.ts): the items each request puts, deletes and
 * reads, by kind of item (the pk's leading word, and the sk's for records), with their sizes and read
 * units by DynamoDB's rules, the requests by command and the kind of item they name first, and the
 * LA list items written by list and scope. Middleware on the document client's stack of this thread;
 * the local runtime's ingest workers get one each (`tallyInWorker`), merged into this thread's as
 * each invocation returns (local/ingest-workers.ts).
 */
import { itemBytes, plainValueBytes, readUnits } from './cost.js';
import type { InstrumentInWorker } from '../local/ingest-workers.js';

type Item = Record<string, unknown>;

/** What a tally holds (a worker hands over the same shape). */
export interface ItemCounts {
  writes: Map<string, { items: number; bytes: number }>;
  deletes: Map<string, number>;
  reads: Map<string, { items: number; units: number }>;
  calls: Map<string, number>;
  listByList: Map<string, number>;
  listByScope: Map<string, number>;
}

const emptyItemCounts = (): ItemCounts => ({
  writes: new Map(),
  deletes: new Map(),
  reads: new Map(),
  calls: new Map(),
  listByList: new Map(),
  listByScope: new Map(),
});

// (Commands reach the client's stack marshalled: a string attribute is { S: … }.)
const text = (v: unknown) => String((v as { S?: string } | undefined)?.S ?? v);
const kindOf = (item: Item) => {
  const pk = text(item.pk).split('#')[0];
  // Lists' and audit's sort keys are rates and times: the partition's kind says enough.
  return ['LALIST', 'AUDIT', 'LABYSCHOOL'].includes(pk) ? pk : `${pk}/${text(item.sk).split('#')[0]}`;
};
// Items reach the client's stack marshalled ({ S: … }, { B: … }), or not yet: sized by DynamoDB's
// rules either way (bench/cost.ts). Counting must never fail a request.
const marshalled = (item: Item) =>
  Object.values(item).every(
    (v) =>
      v !== null &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      !(v instanceof Uint8Array) &&
      Object.keys(v).length === 1,
  );
const sizeOf = (item: Item) =>
  marshalled(item) ? itemBytes(item as Record<string, Record<string, unknown>>) : plainValueBytes(item);
const bump = (m: Map<string, number>, key: string, by = 1) => m.set(key, (m.get(key) ?? 0) + by);

const NAME = 'phaseWriteTally';

export class ItemTally {
  counts: ItemCounts = emptyItemCounts();

  /** Forget what was counted (a phase's tallies start afresh). */
  clear(): void {
    this.counts = emptyItemCounts();
  }

  /** Add another tally's counts (a worker's) to this one's. */
  merge(other: ItemCounts): void {
    const c = this.counts;
    for (const [k, w] of other.writes) {
      const x = c.writes.get(k) ?? { items: 0, bytes: 0 };
      c.writes.set(k, { items: x.items + w.items, bytes: x.bytes + w.bytes });
    }
    for (const [k, r] of other.reads) {
      const x = c.reads.get(k) ?? { items: 0, units: 0 };
      c.reads.set(k, { items: x.items + r.items, units: x.units + r.units });
    }
    for (const [k, n] of other.deletes) bump(c.deletes, k, n);
    for (const [k, n] of other.calls) bump(c.calls, k, n);
    for (const [k, n] of other.listByList) bump(c.listByList, k, n);
    for (const [k, n] of other.listByScope) bump(c.listByScope, k, n);
  }

  // LA list items written (put or deleted) by list and by scope (the partitions' fan-out, docs/decisions.md).
  private tallyList(key: Item): void {
    const [kind, , list, scope] = text(key.pk).split('#');
    if (kind !== 'LALIST') return;
    bump(this.counts.listByList, list);
    bump(this.counts.listByScope, scope ?? 'LA');
  }

  private tallyDelete(key: Item): void {
    try {
      this.tallyList(key);
      bump(this.counts.deletes, kindOf(key));
    } catch {
      // not counted
    }
  }

  private tallyPut(item: Item): void {
    try {
      this.tallyList(item);
      const w = this.counts.writes.get(kindOf(item)) ?? { items: 0, bytes: 0 };
      w.items++;
      w.bytes += sizeOf(item);
      this.counts.writes.set(kindOf(item), w);
    } catch {
      // not counted
    }
  }

  // Items read by kind, and the read units they account for by DynamoDB's rules (a query's by its total).
  private tallyReads(command: string, items: Item[], consistent: boolean): void {
    const reads = this.counts.reads;
    try {
      if (command === 'QueryCommand') {
        const kind = items.length ? `${kindOf(items[0])} (query)` : 'empty query';
        const r = reads.get(kind) ?? { items: 0, units: 0 };
        r.items += items.length;
        r.units += readUnits(
          items.reduce((s, i) => s + sizeOf(i), 0),
          consistent,
        );
        reads.set(kind, r);
        return;
      }
      for (const item of items) {
        const r = reads.get(kindOf(item)) ?? { items: 0, units: 0 };
        r.items++;
        r.units += readUnits(sizeOf(item), consistent);
        reads.set(kindOf(item), r);
      }
    } catch {
      // not counted
    }
  }

  // DynamoDB requests by command and the kind of item they name first: which use sends them.
  private tallyCall(command: string, input: Item): void {
    try {
      const i = input as {
        Key?: Item;
        Item?: Item;
        ExpressionAttributeValues?: Item;
        RequestItems?: Record<
          string,
          { Keys?: Item[] } | Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>
        >;
      };
      let first: Item | undefined = i.Key ?? i.Item;
      const batch = Object.values(i.RequestItems ?? {})[0];
      if (Array.isArray(batch)) first = batch[0]?.PutRequest?.Item ?? batch[0]?.DeleteRequest?.Key;
      else if (batch?.Keys) first = batch.Keys[0];
      const kind = first
        ? kindOf(first)
        : i.ExpressionAttributeValues
          ? `${text(Object.values(i.ExpressionAttributeValues)[0]).split('#')[0]} (query)`
          : '?';
      bump(this.counts.calls, `${command.replace(/Command$/, '')} ${kind}`);
    } catch {
      // not counted
    }
  }

  /** Put the tally on this thread's document client; returns the way to take it off. */
  async install(): Promise<() => void> {
    const { documentClient } = await import('../shared/store/clients.js');
    documentClient().middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as {
          Item?: Item;
          Key?: Item;
          RequestItems?: Record<string, Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>>;
        };
        const name = (context as { commandName?: string }).commandName;
        this.tallyCall(name ?? '?', input);
        if (name === 'PutItemCommand' && input.Item) this.tallyPut(input.Item);
        if (name === 'DeleteItemCommand' && input.Key) this.tallyDelete(input.Key);
        if (name === 'BatchWriteItemCommand')
          for (const list of Object.values(input.RequestItems ?? {}))
            for (const r of list) {
              if (r.PutRequest) this.tallyPut(r.PutRequest.Item);
              if (r.DeleteRequest) this.tallyDelete(r.DeleteRequest.Key);
            }
        const out = await next(args);
        if (name === 'GetItemCommand' || name === 'BatchGetItemCommand' || name === 'QueryCommand') {
          const o = out.output as { Item?: Item; Items?: Item[]; Responses?: Record<string, Item[]> };
          const consistent =
            name === 'QueryCommand' || name === 'GetItemCommand'
              ? (input as { ConsistentRead?: boolean }).ConsistentRead === true
              : Object.values(
                  (input as { RequestItems?: Record<string, { ConsistentRead?: boolean }> }).RequestItems ?? {},
                ).some((r) => r.ConsistentRead === true);
          const items = o.Item ? [o.Item] : (o.Items ?? Object.values(o.Responses ?? {}).flat());
          this.tallyReads(name, items, consistent);
        }
        return out;
      },
      { step: 'initialize', name: NAME },
    );
    return () => void documentClient().middlewareStack.remove(NAME);
  }
}

/**
 * Install a tally on this thread and on every ingest worker of the local runtime (their counts merged
 * into it as each invocation returns). Returns the way to take both off.
 */
export async function installItemTally(tally: ItemTally): Promise<() => void> {
  const off = await tally.install();
  const { instrumentIngestWorkers } = await import('../local/ingest-workers.js');
  const offWorkers = instrumentIngestWorkers({
    module: import.meta.url,
    name: 'tallyInWorker',
    merge: (counts) => tally.merge(counts as ItemCounts),
  });
  return () => {
    offWorkers();
    off();
  };
}

/** The tally in an ingest worker: `take` hands over what it counted since last asked. */
export async function tallyInWorker(): Promise<InstrumentInWorker> {
  const tally = new ItemTally();
  const remove = await tally.install();
  return {
    take() {
      const counts = tally.counts;
      tally.clear();
      return counts;
    },
    remove,
  };
}
