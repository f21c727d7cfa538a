import { Arn, Aws, Duration, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../shared/config.js';
import { FunctionWithLogGroup } from './function-with-log-group.js';
import { anyVersionOf } from './nag-findings.js';
import type { Storage } from './storage.js';

export interface NotificationsProps {
  storage: Storage;
  environment: Record<string, string>;
  /** The From address (context `notificationsFrom`). */
  from: string;
  /** The SES identity sent as: a domain, or the From address itself (context `sesIdentity`). */
  identity: string;
  /** The web app's address, for the links in the messages. */
  appUrl: string;
}

/** What each schedule sends the function (functions/notifications/handler.ts NotificationsEvent). */
const IMMEDIATE_INPUT = { run: 'immediate' } as const;
const DIGEST_INPUT = { run: 'digest' } as const;

/**
 * Alerts that reach people (issue 19; docs/notifications.md): the notifications function, the SES
 * identity it sends as (and nothing else), and two EventBridge Scheduler schedules in England's time:
 * - immediate alerts every 15 minutes from 07:00 to 18:45 on weekdays: a return missing at the LA's
 *   cut-off, or a looked-after child's unexplained absence, reaches someone within a quarter of an
 *   hour of being known, while someone is at work to act; each run is a handful of reads;
 * - the daily digest at 16:00 on weekdays: after the day's registers and returns, in working hours
 *   so an overdue case can be picked up the same day.
 * Runs are serialised (reserved concurrency 1): two runs never send the same pending message twice.
 * A run that fails is retried twice, then kept in a dead-letter queue (alarmed by the stack); a
 * failed send is not a failed run (it is retried by the next run and listed for the administrator).
 */
export class Notifications extends Construct {
  readonly fn: FunctionWithLogGroup;
  readonly identity: ses.EmailIdentity;
  readonly failures: sqs.Queue;
  readonly immediate: scheduler.Schedule;
  readonly digest: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const { storage } = props;
    const isDomain = !props.identity.includes('@');
    this.identity = new ses.EmailIdentity(this, 'Identity', {
      identity: isDomain ? ses.Identity.domain(props.identity) : ses.Identity.email(props.identity),
    });

    this.failures = new sqs.Queue(this, 'Failures', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: storage.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter store of the notifications function (its on-failure destination); nothing consumes it, an alarm watches it.',
    });

    this.fn = new FunctionWithLogGroup(this, 'Notifications', {
      name: 'notifications',
      description: 'Sends the alerts each person chose (immediate, daily digest) through SES, once per alert',
      // The Virtual School's children and the LA's pupil list are read whole.
      memorySize: 2048,
      timeout: Duration.minutes(5),
      environment: { ...props.environment, [ENV.appUrl]: props.appUrl, [ENV.mailFrom]: props.from },
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(this.failures),
      reservedConcurrentExecutions: 1,
    });
    storage.grantTableReadWrite(this.fn);
    storage.grantObjectRead(
      storage.registers,
      this.fn,
      "the LA's pupil list and care lists (the Virtual School's children).",
    );

    // SendEmail as this identity only (SES authorises the From address's identity).
    const identityArn = Arn.format(
      { service: 'ses', resource: 'identity', resourceName: props.identity },
      Stack.of(this),
    );
    this.fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['ses:SendEmail'], resources: [identityArn] }),
    );

    const role = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'EventBridge Scheduler: invoke the Attendance Hub notifications function',
    });
    const target = (input: object) =>
      new targets.LambdaInvoke(this.fn.fn, {
        role,
        input: scheduler.ScheduleTargetInput.fromObject(input),
        retryAttempts: 2,
        // A run delivered late is useless once the next one is due.
        maxEventAge: Duration.minutes(15),
      });
    this.immediate = new scheduler.Schedule(this, 'Immediate', {
      description: 'Attendance Hub immediate alerts, every 15 minutes 07:00-18:45 on weekdays, Europe/London',
      schedule: scheduler.ScheduleExpression.cron({
        minute: '0/15',
        hour: '7-18',
        weekDay: 'MON-FRI',
        timeZone: TimeZone.EUROPE_LONDON,
      }),
      target: target(IMMEDIATE_INPUT),
    });
    this.digest = new scheduler.Schedule(this, 'Digest', {
      description: 'Attendance Hub daily digest, 16:00 on weekdays, Europe/London',
      schedule: scheduler.ScheduleExpression.cron({
        minute: '0',
        hour: '16',
        weekDay: 'MON-FRI',
        timeZone: TimeZone.EUROPE_LONDON,
      }),
      target: target(DIGEST_INPUT),
    });
    Validations.of(role).acknowledge({
      id: anyVersionOf(this.fn.fn),
      reason:
        "CDK's LambdaInvoke target grants lambda:InvokeFunction on the notifications function and its versions (<ARN>:*); this one function only.",
    });
  }
}
