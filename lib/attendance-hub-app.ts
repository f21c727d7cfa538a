import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AttendanceHubStack } from './attendance-hub-stack.js';

/** The stack's id (and CloudFormation name unless `-c stackName=…` is given). */
const DEFAULT_STACK_NAME = 'AttendanceHub';

export interface AttendanceHubApp {
  app: App;
  stack: AttendanceHubStack;
}

/**
 * The CDK app: one stack plus cdk-nag's AWS Solutions checks, whose unacknowledged findings fail
 * synthesis (`cdk synth` exits 1; `app.synth()` throws). Shared by bin/app.ts and test/infra.
 */
export function buildAttendanceHubApp(props: AppProps = {}): AttendanceHubApp {
  const app = new App(props);
  const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? DEFAULT_STACK_NAME;
  const stack = new AttendanceHubStack(app, stackName, {
    description: 'Attendance Hub: LA-wide school attendance analytics and referrals',
    // Environment-agnostic unless the CLI supplies an account and Region (cdk deploy does).
    env:
      process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
        ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
        : undefined,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
