import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME, type MetricName } from '../shared/observability.js';
import type { FunctionWithLogGroup } from './function-with-log-group.js';

export interface MonitoringProps {
  /** Subscribed by email to the alarm topic when given (the recipient must confirm). */
  alarmEmail: string | undefined;
}

/**
 * Alarms to an encrypted SNS topic. The topic has its own key so CloudWatch can be allowed to use
 * it without being allowed near the data key.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly action: actions.SnsAction;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Attendance Hub alarm notifications',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch alarms publish to an SSE-KMS topic only if the key lets CloudWatch use it.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );

    this.topic = new sns.Topic(this, 'Alarms', {
      displayName: 'Attendance Hub alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    this.action = new actions.SnsAction(this.topic);
  }

  /** Any message in a dead-letter queue is a return (or rollup) that failed five times. */
  alarmOnDeadLetters(id: string, queue: sqs.IQueue, what: string): void {
    this.add(id, {
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: `${what} failed repeatedly and is in the dead-letter queue: see docs/deploying.md (redrive).`,
    });
  }

  /** A backlog: the oldest message has waited longer than a return should take. */
  alarmOnQueueAge(id: string, queue: sqs.IQueue, maxAge: Duration, what: string): void {
    this.add(id, {
      metric: queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: maxAge.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      alarmDescription: `${what} has had a message waiting for more than ${maxAge.toHumanString()}.`,
    });
  }

  /** Unhandled errors (handlers turn bad input into responses or quarantine, so an error is a fault). */
  alarmOnErrors(id: string, fn: FunctionWithLogGroup): void {
    this.add(id, {
      metric: fn.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: `The ${fn.node.id} function threw an unhandled error.`,
    });
  }

  /** 5xx from API Gateway itself or the integration, beyond a stray one. */
  alarmOnServerErrors(id: string, api: apigw.HttpApi): void {
    this.add(id, {
      metric: api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: 'The API returned five or more 5xx responses in five minutes.',
    });
  }

  /** One of the service's own metrics (shared/observability.ts METRIC), written by the functions as EMF. */
  serviceMetric(name: MetricName, statistic: string, period: Duration): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { service: SERVICE_NAME },
      statistic,
      period,
    });
  }

  /**
   * The operator's alarms on the service's own metrics: most returns in an hour rejected (a school
   * MIS changed its export, say), a return waiting more than 15 minutes to be applied, LA-wide
   * figures trailing the schools' by more than 15 minutes.
   */
  alarmOnServiceMetrics(): void {
    const hour = Duration.hours(1);
    const accepted = this.serviceMetric(METRIC.returnsAccepted, 'Sum', hour);
    const rejected = this.serviceMetric(METRIC.returnsRejected, 'Sum', hour);
    this.add('ReturnsMostlyRejected', {
      metric: new cloudwatch.MathExpression({
        // FILL: an hour with no returns at all is 0, not missing.
        expression: 'IF((FILL(a, 0) + FILL(r, 0)) >= 10, 100 * FILL(r, 0) / (FILL(a, 0) + FILL(r, 0)), 0)',
        usingMetrics: { a: accepted, r: rejected },
        period: hour,
        label: 'Share of returns rejected (%)',
      }),
      threshold: 50,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription:
        "More than half of at least ten returns in an hour were rejected: a school MIS export or the return format may have changed (see the returns' row errors).",
    });
    // Two 5-minute periods over 15 minutes: a stuck pipeline, not one slow return.
    const staleness: Array<[string, MetricName, string]> = [
      [
        'IngestLag',
        METRIC.ingestLag,
        'A return took more than 15 minutes from upload to being applied (ingest is slow or retrying).',
      ],
      [
        'RollupAge',
        METRIC.rollupAge,
        "The LA-wide figures trailed the schools' by more than 15 minutes (the rollup is slow or retrying).",
      ],
    ];
    for (const [id, metricName, alarmDescription] of staleness) {
      this.add(id, {
        metric: this.serviceMetric(metricName, 'Maximum', Duration.minutes(5)),
        threshold: Duration.minutes(15).toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        alarmDescription,
      });
    }
  }

  /**
   * Notifications that could not be sent (SES refused or throttled them): each is retried by the next
   * run and listed in the administrator's outbox, so one is not an alarm; five in an hour are.
   */
  alarmOnNotificationFailures(): void {
    this.add('NotificationsFailing', {
      metric: this.serviceMetric(METRIC.notificationsFailed, 'Sum', Duration.hours(1)),
      threshold: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription:
        'Five or more notifications failed to send in an hour (SES refused or throttled them): see the outbox (admin: Notifications) for the errors.',
    });
  }

  private add(id: string, props: cloudwatch.AlarmProps): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(this.action);
    this.alarms.push(alarm);
  }
}
