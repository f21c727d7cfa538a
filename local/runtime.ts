/**
 * The whole service on this machine (docs/design.md §3 "Local runtime"): the embedded engines, the local SQS
 * FIFO stand-in, the S3-event bridge and the API Gateway bridge, all driving the very handlers that
 * run in Lambda. Handlers find the engines through the standard AWS_ENDPOINT_URL_* variables; there
 * is no local-only branch in them.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { S3Event, SQSEvent } from 'aws-lambda';
import {
  DEFAULT_NAMES,
  ENV,
  LOCAL_LA_CODE,
  LOCAL_LA_NAME,
  MAX_RECEIVE_COUNT,
  resetRuntimeConfig,
  type LaSettings,
} from '../shared/config.js';
import { resetClients } from '../shared/store/clients.js';
import { resetPseudonymKey } from '../shared/store/outbox.js';
import { startEngines, LOCAL_CREDENTIALS, LOCAL_REGION, type Engines, type S3rverEvent } from './engines.js';
import { startHttpBridge } from './http-bridge.js';
import { envIngestWorkers, startIngestWorkers, type IngestWorkers } from './ingest-workers.js';
import { startLambda, type LocalLambda } from './lambda.js';
import { startNotificationsTimer, localOutboxDir, type NotificationsTimerOptions } from './notifications-timer.js';
import { startPatternsTimer, type PatternsTimerOptions } from './patterns-timer.js';
import { startQueues, type LocalQueues, type QueueDefinition } from './queue.js';
import { mintToken, signingKey, type TokenRequest } from './tokens.js';

export interface LocalRuntimeOptions {
  /** Data directory (engines' files and the token signing key). */
  dataDir: string;
  port?: number;
  host?: string;
  laCode?: string;
  laName?: string;
  laSettings?: Partial<LaSettings>;
  /** Seconds the LA-wide rollup waits to gather a burst of returns (default 2; tests use 0). */
  rollupDelaySeconds?: number;
  /**
   * Schools processed at once (Lambda concurrency stand-in; default 4): each school its own FIFO
   * group, in order within it, as in AWS. The handlers wait on the engine process for much of a
   * return, so several schools at once keep both processes (both cores) busy.
   */
  ingestConcurrency?: number;
  /**
   * Worker threads that run the ingest function's invocations, each a warm Lambda container
   * (local/ingest-workers.ts); 0 runs them in this thread beside the API, as before. Default:
   * INGEST_WORKERS if set, else 0 (the tests); `npm start`, the bench and the profile tools pass
   * `defaultIngestWorkers()`. The `ingestConcurrency` schools at once are shared by all workers.
   */
  ingestWorkers?: number;
  /** Run the pattern detectors once the service is quiet with data, then nightly at 02:00 (npm start); options for tests. */
  patternsTimer?: boolean | Pick<PatternsTimerOptions, 'quietMs' | 'pollMs' | 'nightlyAt'>;
  /** Run the notification job on a timer into the file outbox (npm start); options for tests. */
  notificationsTimer?: boolean | Pick<NotificationsTimerOptions, 'everyMs' | 'digestAt'>;
  /** Serve the web app (built in this directory) at `/`, with the local-only sign-in (web/server.ts). */
  webApp?: { distDir: string };
}

export interface LocalRuntime {
  url: string;
  dataDir: string;
  laCode: string;
  engines: Engines;
  queues: LocalQueues;
  /** The local Lambda Invoke endpoint (the patterns function). */
  lambda: LocalLambda;
  /** The ingest's worker threads, when it has any (`ingestWorkers` > 0). */
  ingestWorkers?: IngestWorkers;
  token(request: Omit<TokenRequest, 'la'> & { la?: string }): Promise<string>;
  /** Resolves when every S3 event has been handed on and every queue is empty and idle. */
  settle(): Promise<void>;
  /** Change the LA rollup's window from now on (sender and queue together); the bench's load test uses the deployed one. */
  setRollupDelay(seconds: number): void;
  stop(): Promise<void>;
}

/** Point the AWS SDK and the handlers' configuration at the local engines. */
function configureEnvironment(
  engines: Engines,
  queues: LocalQueues,
  options: Required<Pick<LocalRuntimeOptions, 'laCode' | 'laName' | 'rollupDelaySeconds'>> & {
    laSettings?: Partial<LaSettings>;
  },
): void {
  const env = process.env;
  env.AWS_REGION = LOCAL_REGION;
  env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  delete env.AWS_SESSION_TOKEN;
  delete env.AWS_PROFILE;
  env.AWS_ENDPOINT_URL_DYNAMODB = engines.dynamoEndpoint;
  env.AWS_ENDPOINT_URL_S3 = engines.s3Endpoint;
  env.AWS_ENDPOINT_URL_SQS = queues.endpoint;
  // s3rver stores aws-chunked framing verbatim unless checksums are sent only when required.
  env.AWS_REQUEST_CHECKSUM_CALCULATION = 'WHEN_REQUIRED';
  env.AWS_RESPONSE_CHECKSUM_VALIDATION = 'WHEN_REQUIRED';
  env[ENV.table] = DEFAULT_NAMES.table;
  env[ENV.returnsBucket] = DEFAULT_NAMES.returnsBucket;
  env[ENV.quarantineBucket] = DEFAULT_NAMES.quarantineBucket;
  env[ENV.registersBucket] = DEFAULT_NAMES.registersBucket;
  env[ENV.ingestQueueUrl] = queues.urlOf(DEFAULT_NAMES.ingestQueue);
  env[ENV.rollupQueueUrl] = queues.urlOf(DEFAULT_NAMES.rollupQueue);
  env[ENV.patternsFunction] = DEFAULT_NAMES.patternsFunction;
  env[ENV.laCode] = options.laCode;
  env[ENV.laName] = options.laName;
  if (options.laSettings) env[ENV.laSettings] = JSON.stringify(options.laSettings);
  else delete env[ENV.laSettings];
  env.ROLLUP_DELAY_SECONDS = String(options.rollupDelaySeconds);
  env.POWERTOOLS_SERVICE_NAME ??= 'attendance-hub';
  resetRuntimeConfig();
  resetClients();
  resetPseudonymKey();
}

/** s3rver sends keys decoded; S3 sends them URL-encoded with spaces as '+'. Re-encode like S3. */
function s3EventFromS3rver(event: S3rverEvent): S3Event {
  return {
    Records: event.Records.map((r) => ({
      ...(r as unknown as S3Event['Records'][number]),
      s3: {
        ...(r.s3 as unknown as S3Event['Records'][number]['s3']),
        object: {
          ...(r.s3.object as S3Event['Records'][number]['s3']['object']),
          key: encodeURIComponent(r.s3.object.key).replace(/%20/g, '+').replace(/%2F/g, '/'),
        },
      },
    })),
  };
}

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const laCode = options.laCode ?? LOCAL_LA_CODE;
  const rollupDelaySeconds = options.rollupDelaySeconds ?? 2;

  const workerCount = options.ingestWorkers ?? envIngestWorkers() ?? 0;
  const engines = await startEngines(dataDir);
  // Started once the environment is configured (below): the workers copy it.
  let workers: IngestWorkers | undefined;
  const rollupQueue: QueueDefinition = {
    name: DEFAULT_NAMES.rollupQueue,
    delaySeconds: rollupDelaySeconds,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    concurrency: 1,
    consumer: async (event: SQSEvent) => (await import('../functions/rollup/handler.js')).handler(event),
  };
  // Handlers are imported after the environment exists: their module-scope clients read it lazily.
  const queues = await startQueues([
    {
      name: DEFAULT_NAMES.ingestQueue,
      delaySeconds: 0,
      maxReceiveCount: MAX_RECEIVE_COUNT,
      concurrency: options.ingestConcurrency ?? 4,
      consumer: async (event: SQSEvent) =>
        workers ? workers.invoke(event) : (await import('../functions/ingest/handler.js')).handler(event),
      onDeadLetter: async (record, error) =>
        (await import('../functions/ingest/dead-letter.js')).rejectDeadLetter(record.body, error),
    },
    rollupQueue,
  ]);
  configureEnvironment(engines, queues, {
    laCode,
    laName: options.laName ?? LOCAL_LA_NAME,
    rollupDelaySeconds,
    laSettings: options.laSettings,
  });
  // Cases stored before the referral list partitions get their entries (once; a single read after that).
  const [{ backfillReferralLists }, { storedReferrals }] = await Promise.all([
    import('../shared/app/referral-lists.js'),
    import('../shared/app/wiring.js'),
  ]);
  await backfillReferralLists({ referrals: storedReferrals });
  // Lambda Invoke stand-in: the api's asynchronous invocation of the patterns function (POST /v1/patterns/runs).
  const lambda = await startLambda([
    {
      name: DEFAULT_NAMES.patternsFunction,
      retryAttempts: 1,
      handler: async (event) => (await import('../functions/patterns/handler.js')).handler(event),
    },
  ]);
  process.env.AWS_ENDPOINT_URL_LAMBDA = lambda.endpoint;
  if (workerCount > 0) {
    const pool = startIngestWorkers(workerCount);
    try {
      await pool.ready();
    } catch (err) {
      await pool.stop();
      await lambda.stop();
      await queues.stop();
      await engines.stop();
      throw err;
    }
    workers = pool;
  }

  // S3 → receive, as the bucket notification does in AWS (object created under returns/ only).
  const inFlight = new Set<Promise<void>>();
  engines.onS3Event((event) => {
    const relevant = event.Records.filter(
      (r) =>
        r.eventName.startsWith('ObjectCreated') &&
        r.s3.bucket.name === DEFAULT_NAMES.returnsBucket &&
        r.s3.object.key.startsWith('returns/'),
    );
    if (relevant.length === 0) return;
    const delivery = deliverS3Event(s3EventFromS3rver({ Records: relevant })).finally(() => inFlight.delete(delivery));
    inFlight.add(delivery);
  });

  const timer = options.patternsTimer
    ? startPatternsTimer({
        ...(typeof options.patternsTimer === 'object' ? options.patternsTimer : {}),
        run: () => lambda.invokeAsync(DEFAULT_NAMES.patternsFunction, { trigger: 'schedule' }),
        isIdle: async () =>
          inFlight.size === 0 &&
          !lambda.busy() &&
          (await Promise.race([
            queues.drain().then(() => true),
            new Promise<boolean>((r) => setTimeout(() => r(false), 0)),
          ])),
        hasData: async () => {
          const { listRegisterUrns } = await import('../shared/store/registers.js');
          const { academicYearOf, todayInEngland } = await import('../shared/domain/dates.js');
          const year = academicYearOf(todayInEngland());
          return (await listRegisterUrns(year)).length > 0 || (await listRegisterUrns(year - 1)).length > 0;
        },
      })
    : undefined;

  const api = (await import('../functions/api/handler.js')).handler;
  const key = signingKey(dataDir);
  const web = options.webApp
    ? (await import('../web/server.js')).createWebHandler({
        distDir: options.webApp.distDir,
        laName: options.laName ?? LOCAL_LA_NAME,
        mint: (request) => mintToken(dataDir, { ...request, la: laCode }),
        schools: async () => (await import('../shared/store/schools.js')).listSchools(),
      })
    : undefined;
  const bridge = await startHttpBridge({
    before: web,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    signingKey: key,
    handler: (event, context) => api(event, context),
  });

  const notificationsTimer = options.notificationsTimer
    ? startNotificationsTimer({
        ...(typeof options.notificationsTimer === 'object' ? options.notificationsTimer : {}),
        run: async (run) => {
          const [{ runScheduledNotifications }, { fileOutboxMailer }, { runtimeConfig }] = await Promise.all([
            import('../shared/app/notifications.js'),
            import('../shared/mail/mailer.js'),
            import('../shared/config.js'),
          ]);
          return runScheduledNotifications({
            run,
            mailer: fileOutboxMailer(localOutboxDir(dataDir)),
            appUrl: bridge.url,
            returnCutOff: runtimeConfig().settings.returnCutOff,
          });
        },
        onError: (err) =>
          void import('../shared/observability.js').then(({ errorSummary, logger }) =>
            logger.warn('notification run failed', { error: errorSummary(err) }),
          ),
      })
    : undefined;

  return {
    url: bridge.url,
    dataDir,
    laCode,
    engines,
    queues,
    lambda,
    ingestWorkers: workers,
    token: (request) => mintToken(dataDir, { ...request, la: request.la ?? laCode }),
    async settle() {
      for (;;) {
        await engines.sync();
        while (inFlight.size > 0) await Promise.all([...inFlight]);
        await queues.drain();
        await lambda.drain();
        if (inFlight.size === 0 && !lambda.busy()) return;
      }
    },
    setRollupDelay(seconds: number) {
      rollupQueue.delaySeconds = seconds;
      process.env.ROLLUP_DELAY_SECONDS = String(seconds);
      workers?.setEnv('ROLLUP_DELAY_SECONDS', String(seconds));
    },
    async stop() {
      timer?.stop();
      notificationsTimer?.stop();
      await bridge.close();
      await lambda.drain();
      await lambda.stop();
      await queues.stop();
      await workers?.stop();
      await engines.stop();
    },
  };
}

/** S3 invokes its notification target asynchronously and retries twice; so do we. */
async function deliverS3Event(event: S3Event): Promise<void> {
  const receive = (await import('../functions/receive/handler.js')).handler;
  for (let attempt = 0; ; attempt++) {
    try {
      await receive(event);
      return;
    } catch (err) {
      if (attempt >= 2) {
        const { errorSummary, logger } = await import('../shared/observability.js');
        logger.error('S3 event not delivered after 3 attempts', { error: errorSummary(err) });
        return;
      }
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}
