import { Aws, Duration, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { FunctionWithLogGroup } from './function-with-log-group.js';
import { anyVersionOf } from './nag-findings.js';
import type { Storage } from './storage.js';

export interface SchedulesProps {
  storage: Storage;
  environment: Record<string, string>;
}

/** Payload the nightly schedule sends to the patterns function (the api sends its own, with a runId). */
export const NIGHTLY_PATTERNS_INPUT = { trigger: 'schedule' } as const;

/**
 * The pattern detectors (holiday-adjacent absence, near-threshold unauthorised absence, school
 * coding patterns) and the schedule that runs them every night at 02:00 UK time.
 */
export class Schedules extends Construct {
  readonly patterns: FunctionWithLogGroup;
  readonly nightly: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    const { storage } = props;

    this.patterns = new FunctionWithLogGroup(this, 'Patterns', {
      name: 'patterns',
      description: 'Runs the threshold-gaming and coding-pattern detectors across the whole LA',
      // Up to 230,000 pupils' years of marks (732 sessions each) in one run: 8 GB (~4.6 vCPUs)
      // and the 15-minute maximum.
      memorySize: 8192,
      timeout: Duration.minutes(15),
      environment: props.environment,
      // One retry of an asynchronous invocation: a transient failure at 02:00 should not cost a
      // night's findings; a second failure raises the errors alarm and an admin re-runs it.
      retryAttempts: 1,
    });
    storage.grantTableReadWrite(this.patterns);
    storage.grantObjectRead(storage.registers, this.patterns, 'the registers of every school in the LA.');
    storage.grantObjectWrite(storage.registers, this.patterns, "each run's findings (patterns/<runId>.json.gz).");

    const role = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'EventBridge Scheduler: invoke the Attendance Hub patterns function nightly',
    });

    this.nightly = new scheduler.Schedule(this, 'NightlyPatterns', {
      description: 'Attendance Hub pattern detectors, nightly at 02:00 Europe/London',
      // A Scheduler schedule carries its time zone, so 02:00 stays 02:00 across BST/GMT.
      schedule: scheduler.ScheduleExpression.cron({ minute: '0', hour: '2', timeZone: TimeZone.EUROPE_LONDON }),
      target: new targets.LambdaInvoke(this.patterns.fn, {
        role,
        input: scheduler.ScheduleTargetInput.fromObject(NIGHTLY_PATTERNS_INPUT),
        // Scheduler's own retries are for failing to deliver the invocation, not for the run.
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
      }),
    });
    Validations.of(role).acknowledge({
      id: anyVersionOf(this.patterns.fn),
      reason:
        "CDK's LambdaInvoke target grants lambda:InvokeFunction on the patterns function and its versions (<ARN>:*); this one function only.",
    });
  }
}
