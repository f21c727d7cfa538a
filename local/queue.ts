/**
 * The local stand-in for SQS FIFO: an HTTP endpoint speaking the SQS JSON protocol (SendMessage,
 * SendMessageBatch) so the handlers' real SDK calls work unchanged, feeding in-process queues with
 * one ordered lane per message group, deduplication ids, a delivery delay, retries with backoff and a
 * dead-letter hook — the FIFO semantics the design relies on.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface QueueDefinition {
  name: string;
  /** Seconds every message waits before it can be received (the queue's DeliveryDelay). */
  delaySeconds: number;
  /** Receives before a message goes to the dead-letter hook. */
  maxReceiveCount: number;
  /** How many message groups are worked at once (Lambda concurrency). */
  concurrency: number;
  consumer: (event: SQSEvent) => Promise<SQSBatchResponse | void>;
  onDeadLetter?: (record: SQSRecord, error: string) => Promise<void>;
}

interface Pending {
  id: string;
  body: string;
  groupId: string;
  availableAt: number;
  receiveCount: number;
}

const DEDUP_WINDOW_MS = 5 * 60 * 1000;

class FifoQueue {
  private readonly lanes = new Map<string, Pending[]>();
  private readonly busy = new Set<string>();
  private readonly dedup = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  private seq = 0;
  stopped = false;
  deadLetters: Array<{ body: string; error: string }> = [];

  constructor(
    readonly def: QueueDefinition,
    readonly url: string,
  ) {}

  send(body: string, groupId: string, dedupId: string | undefined): { id: string; sequence: string } {
    const now = Date.now();
    for (const [k, at] of this.dedup) if (now - at > DEDUP_WINDOW_MS) this.dedup.delete(k);
    const id = randomUUID();
    const sequence = String(++this.seq).padStart(20, '0');
    const key = dedupId ?? createHash('sha256').update(body).digest('hex');
    if (this.dedup.has(key)) return { id, sequence };
    this.dedup.set(key, now);
    let lane = this.lanes.get(groupId);
    if (!lane) this.lanes.set(groupId, (lane = []));
    lane.push({ id, body, groupId, availableAt: now + this.def.delaySeconds * 1000, receiveCount: 0 });
    this.schedule(0);
    return { id, sequence };
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) {
      if (ms > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, ms);
  }

  private pump(): void {
    if (this.stopped) return;
    const now = Date.now();
    let nextWake = Infinity;
    for (const [groupId, lane] of this.lanes) {
      if (lane.length === 0) {
        this.lanes.delete(groupId);
        continue;
      }
      if (this.busy.has(groupId)) continue;
      if (this.busy.size >= this.def.concurrency) break;
      const head = lane[0];
      if (head.availableAt > now) {
        nextWake = Math.min(nextWake, head.availableAt);
        continue;
      }
      this.busy.add(groupId);
      void this.deliver(groupId, head).finally(() => {
        this.busy.delete(groupId);
        this.schedule(0);
        this.checkIdle();
      });
    }
    if (nextWake !== Infinity) this.schedule(Math.max(1, nextWake - Date.now()));
    this.checkIdle();
  }

  private async deliver(groupId: string, message: Pending): Promise<void> {
    message.receiveCount++;
    const record: SQSRecord = {
      messageId: message.id,
      receiptHandle: `${message.id}:${message.receiveCount}`,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(Date.now()),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
        MessageGroupId: groupId,
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(message.body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:local:000000000000:${this.def.name}`,
      awsRegion: 'local',
    };
    let error: string | undefined;
    try {
      const result = await this.def.consumer({ Records: [record] });
      if (result && result.batchItemFailures.some((f) => f.itemIdentifier === message.id))
        error = 'reported as a batch item failure';
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const lane = this.lanes.get(groupId) ?? [];
    if (!error) {
      lane.shift();
      return;
    }
    if (message.receiveCount >= this.def.maxReceiveCount) {
      lane.shift();
      this.deadLetters.push({ body: message.body, error });
      await this.def.onDeadLetter?.(record, error).catch(() => undefined);
      return;
    }
    // Visibility timeout stand-in: the group waits, in order, before the message is retried.
    message.availableAt = Date.now() + Math.min(2000, 50 * 2 ** message.receiveCount);
  }

  private checkIdle(): void {
    if (this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  isIdle(): boolean {
    return this.busy.size === 0 && [...this.lanes.values()].every((l) => l.length === 0);
  }

  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

export interface LocalQueues {
  endpoint: string;
  urlOf(name: string): string;
  /** Resolves when every queue is empty and nothing is being processed (delayed messages included). */
  drain(): Promise<void>;
  deadLetters(name: string): Array<{ body: string; error: string }>;
  stop(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startQueues(defs: QueueDefinition[]): Promise<LocalQueues> {
  const queues = new Map<string, FifoQueue>();
  const server: Server = createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(body));
    };
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>;
      const name =
        String(input.QueueUrl ?? '')
          .split('/')
          .pop() ?? '';
      const queue = queues.get(name);
      if (!queue) return reply(400, { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: `no queue ${name}` });
      const sendOne = (m: Record<string, unknown>) => {
        if (!m.MessageGroupId) throw new Error('MessageGroupId is required for FIFO queues');
        const body = String(m.MessageBody ?? '');
        const { id, sequence } = queue.send(
          body,
          String(m.MessageGroupId),
          m.MessageDeduplicationId ? String(m.MessageDeduplicationId) : undefined,
        );
        return {
          MessageId: id,
          MD5OfMessageBody: createHash('md5').update(body).digest('hex'),
          SequenceNumber: sequence,
        };
      };
      if (target.endsWith('.SendMessage')) return reply(200, sendOne(input));
      if (target.endsWith('.SendMessageBatch')) {
        const entries = (input.Entries as Array<Record<string, unknown>>) ?? [];
        return reply(200, { Successful: entries.map((e) => ({ Id: e.Id, ...sendOne(e) })), Failed: [] });
      }
      return reply(400, {
        __type: 'com.amazonaws.sqs#UnsupportedOperation',
        message: `${target} is not supported locally`,
      });
    } catch (err) {
      return reply(400, {
        __type: 'com.amazonaws.sqs#InvalidParameterValue',
        message: err instanceof Error ? err.message : String(err),
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const def of defs) queues.set(def.name, new FifoQueue(def, `${endpoint}/000000000000/${def.name}`));
  return {
    endpoint,
    urlOf: (name) => `${endpoint}/000000000000/${name}`,
    async drain() {
      // A consumer may enqueue onto another queue; loop until all are idle together.
      for (;;) {
        await Promise.all([...queues.values()].map((q) => q.whenIdle()));
        if ([...queues.values()].every((q) => q.isIdle())) return;
      }
    },
    deadLetters: (name) => queues.get(name)?.deadLetters ?? [],
    async stop() {
      for (const q of queues.values()) q.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
