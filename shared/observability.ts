/**
 * Structured logging and metrics (Powertools), one instance per process. Never log names, UPNs,
 * dates of birth or marks: log identifiers of returns, schools and counts only.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';

/** The Powertools service name and metrics namespace (also set as POWERTOOLS_* in lib/function-environment.ts). */
export const SERVICE_NAME = 'attendance-hub';
export const METRICS_NAMESPACE = 'AttendanceHub';

export const logger = new Logger({ serviceName: SERVICE_NAME });

const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

/**
 * What an LA operator watches (CloudWatch, namespace AttendanceHub, dimension service; alarms in
 * lib/monitoring.ts): returns accepted and rejected, rows rejected, how long a return waits to be
 * applied (ingest lag), how long the LA-wide figures trail the schools' (rollup age), and notifications
 * sent and failed (a failed send is retried by the next run, and listed for the administrator).
 */
export const METRIC = {
  returnsAccepted: 'ReturnsAccepted',
  returnsRejected: 'ReturnsRejected',
  rowsRejected: 'RowsRejected',
  ingestLag: 'IngestLagSeconds',
  rollupAge: 'RollupAgeSeconds',
  notificationsSent: 'NotificationsSent',
  notificationsFailed: 'NotificationsFailed',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

const UNITS: Record<MetricName, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  ReturnsAccepted: MetricUnit.Count,
  ReturnsRejected: MetricUnit.Count,
  RowsRejected: MetricUnit.Count,
  IngestLagSeconds: MetricUnit.Seconds,
  RollupAgeSeconds: MetricUnit.Seconds,
  NotificationsSent: MetricUnit.Count,
  NotificationsFailed: MetricUnit.Count,
};

/**
 * One metric, written at once as a CloudWatch embedded-metric-format line on stdout (no API call).
 * Each is its own single-metric record, so concurrent invocations in one process (locally) never
 * flush each other's. Off when POWERTOOLS_METRICS_DISABLED is true (the tests, by default).
 */
export function recordMetric(name: MetricName, value: number): void {
  metrics.singleMetric().addMetric(name, UNITS[name], value);
}

/**
 * Several metrics of one event (a return processed: its outcome, rows rejected, lag) as one
 * embedded-metric-format line, from a record of their own (so concurrent invocations in one process
 * never flush each other's): one line, not one a metric.
 */
export function recordMetrics(values: ReadonlyArray<readonly [MetricName, number]>): void {
  if (values.length === 0) return;
  const record = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  for (const [name, value] of values) record.addMetric(name, UNITS[name], value);
  record.publishStoredMetrics();
}

/**
 * The handler with the Lambda context (request id, cold start, function name and version, memory)
 * on every log line it writes: Powertools' injectLambdaContext, for plain and middy handlers alike.
 * Locally, queue consumers are called without a context and log without one; in Lambda one
 * execution environment runs one invocation at a time, so the context is that invocation's.
 */
export function withLambdaContext<E, R>(
  handler: (event: E, context: Context) => Promise<R>,
): (event: E, context?: Context) => Promise<R> {
  return async (event: E, context?: Context) => {
    if (context?.awsRequestId) logger.addContext(context);
    return handler(event, context as Context);
  };
}

/**
 * An error as a log field: its class and its message with anything quoted, UPN-shaped or
 * date-shaped masked. Library messages quote their input (JSON.parse's `Unexpected token …,
 * "…" is not valid JSON` shows the text around the fault, which in a register is names and
 * marks), so a message is never logged as it is.
 */
export function errorSummary(err: unknown): { name: string; message: string } {
  const name = err instanceof Error ? err.name : 'Error';
  return { name, message: maskPupilData(err instanceof Error ? err.message : String(err)).slice(0, 300) };
}

/** Text with everything from its first quote to its last, UPNs and dates replaced by placeholders. */
export function maskPupilData(text: string): string {
  const quote = /["'`]/;
  const first = text.search(quote);
  let out = text;
  if (first >= 0) {
    let last = -1;
    for (let i = text.length - 1; i > first; i--)
      if (quote.test(text[i])) {
        last = i;
        break;
      }
    out = `${text.slice(0, first)}[quoted text]${last > first ? text.slice(last + 1) : ''}`;
  }
  return out
    .replace(/\b[A-Za-z]\d{11}[0-9A-Za-z]\b/g, '[upn]')
    .replace(/\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}\/\d{1,2}\/\d{4}\b/g, '[date]');
}
