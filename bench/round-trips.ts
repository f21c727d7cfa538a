/**
 * Round trips in sequence: how many DynamoDB and S3 calls a request waits for one after another (its
 * critical path), counted from when each call was sent and answered. A call sent before another was
 * answered did not wait for it; the chain is the longest run of calls each sent after the one before
 * it was answered. A count, not a time: the same on a quiet machine and a busy one, for one request
 * at a time (under load other requests' calls interleave and the count means nothing).
 */
type Stack = { add(mw: unknown, options: Record<string, unknown>): void; remove(name: string): boolean };

export interface Call {
  command: string;
  sent: number;
  answered: number;
}

/** The longest chain of calls each sent after the previous one was answered (0 with no calls). */
export function roundTripsInSequence(calls: readonly Call[]): number {
  const sorted = [...calls].sort((a, b) => a.sent - b.sent);
  const depth: number[] = [];
  sorted.forEach((c, i) => {
    let before = 0;
    for (let j = 0; j < i; j++) if (sorted[j].answered <= c.sent) before = Math.max(before, depth[j]);
    depth.push(before + 1);
  });
  return Math.max(0, ...depth);
}

/** Record every DynamoDB and S3 call of this process until the returned function is called. */
export async function recordCalls(): Promise<{ calls: Call[]; remove: () => void }> {
  const { documentClient, s3Client } = await import('../shared/store/clients.js');
  const calls: Call[] = [];
  const name = 'roundTrips';
  const mw =
    (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) =>
    async (a: unknown): Promise<unknown> => {
      const call: Call = {
        command: (context.commandName ?? '').replace(/Command$/, ''),
        sent: performance.now(),
        answered: 0,
      };
      try {
        return await next(a);
      } finally {
        call.answered = performance.now();
        calls.push(call);
      }
    };
  const stacks = [documentClient().middlewareStack, s3Client().middlewareStack] as unknown as Stack[];
  for (const stack of stacks) stack.add(mw, { step: 'initialize', priority: 'high', name, override: true });
  return {
    calls,
    remove: () => {
      for (const stack of stacks) stack.remove(name);
    },
  };
}
