import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root: entries, lockfile and tsconfig are resolved from here, not from the cwd. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The Lambdas of docs/design.md §3; each is functions/<name>/handler.ts exporting `handler`. */
export type FunctionName = 'api' | 'receive' | 'ingest' | 'rollup' | 'patterns' | 'notifications';

/**
 * nodejs22.x as the design and CONVENTIONS pin it. Node 22 reaches end of life on 2027-04-30;
 * moving to NODEJS_24_X is this one line plus the esbuild target below (and package.json engines).
 * One Node line for the project: package.json `engines` is `^20.19.0 || ^22.13.0` — Node 22 is what
 * runs in Lambda, Node 20 (≥ 20.19) what the local runtime, the tests and CI run on; every locked
 * dependency accepts both (test/infra/node-line.test.ts).
 */
export const RUNTIME = lambda.Runtime.NODEJS_22_X;
export const ESBUILD_TARGET = 'node22';

export interface FunctionWithLogGroupProps {
  name: FunctionName;
  description: string;
  memorySize: number;
  timeout: Duration;
  environment: Record<string, string>;
  /** How long this function's logs are kept. */
  logRetention?: logs.RetentionDays;
  /** Retries of asynchronous invocations (`patterns` by its schedule and the api, `receive` by S3). */
  retryAttempts?: number;
  /** Where an asynchronous invocation goes once its retries are spent. */
  onFailure?: lambda.IDestination;
  /** Concurrency reserved for this function, and its ceiling (api and ingest: neither starves the other). */
  reservedConcurrentExecutions?: number;
}

/** NODE_OPTIONS of a function of this many MB. */
export function nodeOptions(memorySize: number): string {
  return memorySize >= 2048 ? '--enable-source-maps --max-semi-space-size=64' : '--enable-source-maps';
}

/**
 * A bundled Lambda with its own log group, retention and execution role (the Powertools example
 * app's FunctionWithLogGroup). The role is created here, with an inline policy for its log group
 * only, instead of the AWS-managed AWSLambdaBasicExecutionRole, which grants logs on every group.
 */
export class FunctionWithLogGroup extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FunctionWithLogGroupProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      // Handlers never log names, UPNs or marks (docs/design.md §3 Security), so a quarter is enough to
      // investigate an incident; the audit log of who read what lives in DynamoDB, not here.
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Attendance Hub ${props.name} function`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      description: props.description,
      projectRoot: PROJECT_ROOT,
      entry: join(PROJECT_ROOT, 'functions', props.name, 'handler.ts'),
      handler: 'handler',
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      // Stack traces name the TypeScript source lines (the bundle ships its source map). Functions of 2 GB
      // or more get a young generation of 64 MB semi-spaces: ingest, rollup and the patterns run make
      // many short-lived objects a pupil (8 December 2026, measured locally: the handlers' CPU 6–7 % less
      // in the LA day and the back-fill; docs/benchmarks.md).
      environment: { ...props.environment, NODE_OPTIONS: nodeOptions(props.memorySize) },
      retryAttempts: props.retryAttempts,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      onFailure: props.onFailure,
      bundling: {
        // As Powertools for AWS Lambda's example app: ESM, minified, everything bundled (the SDK too: pinned and faster to
        // load than the runtime's copy), with `require` defined for the few CommonJS dependencies.
        format: OutputFormat.ESM,
        target: ESBUILD_TARGET,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        externalModules: [],
        banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
      },
    });

    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x is the runtime the design pins (CONVENTIONS: "Lambdas run on nodejs22.x"); it is supported by Lambda ' +
        'until Node 22 end of life (2027-04-30). The upgrade to nodejs24.x is the RUNTIME constant in this file.',
    });
  }

  /**
   * Acknowledges one cdk-nag finding on this function's own policy; each grant calls this next to
   * the permission it adds, so the reason sits beside the permission.
   */
  acknowledge(id: string, reason: string): void {
    Validations.of(this.role).acknowledge({ id, reason });
  }
}
