import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_RECEIVE_COUNT, ROLLUP_DELAY_SECONDS } from '../shared/config.js';
import type { DeploymentSettings } from './deployment-settings.js';
import { functionEnvironment } from './function-environment.js';
import { FunctionWithLogGroup } from './function-with-log-group.js';
import type { Storage } from './storage.js';

export interface IngestPipelineProps {
  storage: Storage;
  settings: DeploymentSettings;
}

/** Receives after this many failed attempts a message moves to its dead-letter queue (shared/config.ts). */
export { MAX_RECEIVE_COUNT };

/** Timeouts of the two queue consumers; each queue's visibility timeout is three times its consumer's. */
const INGEST_TIMEOUT = Duration.minutes(5);
const ROLLUP_TIMEOUT = Duration.minutes(5);

/** Schools ingested at once: the event source's maximum concurrency and the function's reserved concurrency. */
export const INGEST_MAX_CONCURRENCY = 100;

/**
 * S3 returns bucket → `receive` → ingest FIFO queue (one message group per school URN, so one
 * school's returns apply in order while schools run in parallel) → `ingest` → rollup FIFO queue
 * (one group, delayed, so a burst of returns leads to few LA-wide recomputations) → `rollup`.
 */
export class IngestPipeline extends Construct {
  readonly ingestQueue: sqs.Queue;
  readonly ingestDeadLetters: sqs.Queue;
  readonly rollupQueue: sqs.Queue;
  readonly rollupDeadLetters: sqs.Queue;
  /** S3 notifications `receive` could not hand on after its retries. */
  readonly receiveFailures: sqs.Queue;
  /** Environment every function of the stack runs with (see function-environment.ts). */
  readonly environment: Record<string, string>;
  readonly receive: FunctionWithLogGroup;
  readonly ingest: FunctionWithLogGroup;
  readonly rollup: FunctionWithLogGroup;

  private readonly storage: Storage;

  constructor(scope: Construct, id: string, props: IngestPipelineProps) {
    super(scope, id);
    const { storage, settings } = props;
    this.storage = storage;

    [this.ingestQueue, this.ingestDeadLetters] = this.fifoQueue('Ingest', {
      // AWS recommends 6× the consumer timeout; 3× is chosen because a failed return would
      // otherwise hold its school's FIFO group for half an hour before the retry. The event
      // source's maximum concurrency keeps Lambda from throttling the poller, the case 6× covers.
      visibilityTimeout: INGEST_TIMEOUT.plus(INGEST_TIMEOUT).plus(INGEST_TIMEOUT),
      // Many message groups (one per school): FIFO high-throughput mode.
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
    });
    [this.rollupQueue, this.rollupDeadLetters] = this.fifoQueue('Rollup', {
      visibilityTimeout: ROLLUP_TIMEOUT.plus(ROLLUP_TIMEOUT).plus(ROLLUP_TIMEOUT),
      deliveryDelay: Duration.seconds(ROLLUP_DELAY_SECONDS),
    });

    this.environment = functionEnvironment({
      storage,
      ingestQueue: this.ingestQueue,
      rollupQueue: this.rollupQueue,
      settings,
    });

    // S3 invokes `receive` asynchronously; an event it still cannot hand to the queue after Lambda's
    // retries is kept here (with an alarm) instead of leaving the return at "received" unseen.
    this.receiveFailures = new sqs.Queue(this, 'ReceiveFailures', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.storage.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.receiveFailures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter store of the receive function (its on-failure destination); nothing consumes it, an alarm watches it.',
    });
    this.receive = new FunctionWithLogGroup(this, 'Receive', {
      name: 'receive',
      description: 'Records a newly stored return and queues it for ingest in its school’s FIFO group',
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: this.environment,
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(this.receiveFailures),
    });
    this.sendTo(this.ingestQueue, this.receive);
    // Reads the return record the api created, then marks it received.
    storage.grantTableReadWrite(this.receive);
    storage.returns.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(this.receive.fn));
    this.acknowledgeBucketNotificationsHandler();

    this.ingest = new FunctionWithLogGroup(this, 'Ingest', {
      name: 'ingest',
      description: 'Parses, validates and applies one return (daily CSV or CTF), up to a 200 MB back-fill',
      // A whole-year back-fill is parsed in memory; 4 GB also buys ~2.3 vCPUs for parsing.
      memorySize: 4096,
      timeout: INGEST_TIMEOUT,
      environment: this.environment,
      // As many as the event source may run at once, kept for ingest whatever the API is doing.
      reservedConcurrentExecutions: INGEST_MAX_CONCURRENCY,
    });
    storage.grantObjectRead(
      storage.returns,
      this.ingest,
      'the return named by the queued message, any school and return id.',
    );
    storage.grantObjectRead(storage.registers, this.ingest, 'the register of the school-year being amended.');
    storage.grantObjectWrite(storage.registers, this.ingest, 'the amended register of any school-year.');
    storage.grantObjectRead(storage.quarantine, this.ingest, 'earlier error reports of the same return, on a retry.');
    storage.grantObjectWrite(
      storage.quarantine,
      this.ingest,
      'a rejected file and its error report, keyed by return id.',
    );
    storage.grantTableReadWrite(this.ingest);
    this.sendTo(this.rollupQueue, this.ingest);
    this.ingest.fn.addEventSource(
      new SqsEventSource(this.ingestQueue, {
        // One return per invocation: a big back-fill never delays another school's return in
        // the same batch, and a failure is reported for exactly that message.
        batchSize: 1,
        reportBatchItemFailures: true,
        // Up to 100 schools at once (docs/design.md §7: the LA's day in seconds), leaving the rest of
        // the account's default 1,000 concurrency to the API.
        maxConcurrency: INGEST_MAX_CONCURRENCY,
      }),
    );

    this.rollup = new FunctionWithLogGroup(this, 'Rollup', {
      name: 'rollup',
      description: 'Recomputes LA-wide aggregates after returns have been applied',
      memorySize: 2048,
      timeout: ROLLUP_TIMEOUT,
      environment: this.environment,
    });
    storage.grantTableReadWrite(this.rollup);
    storage.grantObjectRead(storage.registers, this.rollup, 'the registers of every school in the LA.');
    storage.grantObjectWrite(
      storage.registers,
      this.rollup,
      'compact per-school running totals kept beside the registers.',
    );
    this.rollup.fn.addEventSource(
      new SqsEventSource(this.rollupQueue, {
        // Up to ten pending triggers in one invocation, so a burst of returns becomes one rollup.
        batchSize: 10,
        reportBatchItemFailures: true,
        // The queue has one message group, so only one batch is ever in flight; 2 is the minimum.
        maxConcurrency: 2,
      }),
    );
  }

  private fifoQueue(id: string, props: Partial<sqs.QueueProps>): [sqs.Queue, sqs.Queue] {
    const common: sqs.QueueProps = {
      fifo: true,
      // Producers give every message an explicit deduplication id (the return's id), so the
      // same upload delivered twice by S3 is enqueued once; content-based dedup stays off.
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.storage.key,
      // Reuse the data key for five minutes rather than calling KMS for every message.
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    };
    const deadLetters = new sqs.Queue(this, `${id}DeadLetters`, common);
    const queue = new sqs.Queue(this, `${id}Queue`, {
      ...common,
      ...props,
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    return [queue, deadLetters];
  }

  /** SendMessage on one queue, and the key operations SQS server-side encryption needs from a producer. */
  private sendTo(queue: sqs.Queue, producer: FunctionWithLogGroup): void {
    queue.grant(producer.role, 'sqs:SendMessage');
    this.storage.key.grant(producer.role, 'kms:GenerateDataKey', 'kms:Decrypt');
  }

  /**
   * S3 bucket notifications are configured at deployment by a CDK-provided custom resource Lambda,
   * one per stack; its finding is acknowledged here, where it comes into being.
   */
  private acknowledgeBucketNotificationsHandler(): void {
    const handler = Stack.of(this).node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
    if (!handler) throw new Error('expected the S3 BucketNotificationsHandler after addEventNotification');
    Validations.of(handler).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'CDK-provided BucketNotificationsHandler (runs only during deployment to set the returns bucket notification); ' +
        'its role and managed policy are not configurable.',
    });
  }
}
