import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../functions/api/routes/index.js';
import { API_RESERVED_CONCURRENCY, ROUTE_THROTTLES, STAGE_THROTTLE } from '../../lib/api.js';
import { buildAttendanceHubApp } from '../../lib/attendance-hub-app.js';
import { ROLE_GROUPS } from '../../lib/auth.js';
import { PROJECT_ROOT } from '../../lib/function-with-log-group.js';
import { INGEST_MAX_CONCURRENCY, MAX_RECEIVE_COUNT } from '../../lib/ingest-pipeline.js';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../shared/observability.js';
import { EXPORTS_PREFIX } from '../../shared/store/keys.js';
import { ENV, LOCAL_LA_CODE, PUBLIC_ROUTES, ROLLUP_DELAY_SECONDS, TABLE_SCHEMA } from '../../shared/config.js';

/** cdk.json's feature flags, as `cdk synth` would apply them, with esbuild bundling skipped. */
const CDK_JSON_CONTEXT = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context as Record<
  string,
  unknown
>;
function build(context: Record<string, unknown> = {}) {
  return buildAttendanceHubApp({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context } });
}

type Resources = Record<string, { Type: string; Properties: Record<string, any>; DeletionPolicy?: string }>;

let template: Template;
let resources: Resources;

/** The five application functions by name (the sixth Lambda is CDK's bucket-notification handler). */
let functions: Record<
  'api' | 'receive' | 'ingest' | 'rollup' | 'patterns',
  { logicalId: string; props: Record<string, any> }
>;

function logicalIdOf(pathFragment: string, type: string): string {
  const found = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(pathFragment));
  if (found.length !== 1) throw new Error(`expected one ${type} under ${pathFragment}, found ${found.length}`);
  return found[0][0];
}

function policyStatementsOfRole(roleLogicalIdPrefix: string): any[] {
  const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, p]) =>
    (p.Properties.Roles as any[]).some((r) => r.Ref?.startsWith(roleLogicalIdPrefix)),
  );
  return policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}

function actionsOn(statements: any[], logicalId: string): string[] {
  return statements
    .filter((s) => JSON.stringify(s.Resource).includes(`"${logicalId}"`))
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

beforeAll(() => {
  const { stack } = build();
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Resources;
  const fnIds = {
    api: 'ApiHandlerFunction',
    receive: 'IngestPipelineReceiveFunction',
    ingest: 'IngestPipelineIngestFunction',
    rollup: 'IngestPipelineRollupFunction',
    patterns: 'SchedulesPatternsFunction',
  } as const;
  functions = Object.fromEntries(
    Object.entries(fnIds).map(([name, prefix]) => {
      const logicalId = logicalIdOf(prefix, 'AWS::Lambda::Function');
      return [name, { logicalId, props: resources[logicalId].Properties }];
    }),
  ) as typeof functions;
});

describe('storage', () => {
  it('keys the single table on pk/sk with gsi1 (gsi1pk/gsi1sk), on demand, PITR on, CMK-encrypted and retained', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35 },
        TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.ttlAttribute, Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
        DeletionProtectionEnabled: true,
        GlobalSecondaryIndexes: [
          {
            IndexName: TABLE_SCHEMA.gsi1.name,
            KeySchema: [
              { AttributeName: TABLE_SCHEMA.gsi1.partitionKey, KeyType: 'HASH' },
              { AttributeName: TABLE_SCHEMA.gsi1.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    });
  });

  it('rotates the customer-managed data key and keeps it when the stack is deleted', () => {
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true, Description: Match.stringLikeRegexp('pupil data') }),
    });
  });

  it.each(['StorageReturns', 'StorageQuarantine', 'StorageRegisters'])(
    '%s is versioned, SSE-KMS with the data key, fully private, access-logged and retained',
    (prefix) => {
      const id = logicalIdOf(prefix, 'AWS::S3::Bucket');
      const bucket = resources[id];
      const dataKey = logicalIdOf('StorageDataKey', 'AWS::KMS::Key');
      const logs = logicalIdOf('StorageAccessLogs', 'AWS::S3::Bucket');
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toEqual({
        BucketKeyEnabled: true,
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [dataKey, 'Arn'] } },
      });
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: logs });
    },
  );

  it('denies every non-TLS request to each of the four buckets (and the two of the web app)', () => {
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(4 + 2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('lets browsers PUT to presigned URLs on the returns bucket only, and GET presigned kept files and exports', () => {
    const get = expect.objectContaining({ AllowedMethods: ['GET'], AllowedOrigins: ['*'] });
    const returns = resources[logicalIdOf('StorageReturns', 'AWS::S3::Bucket')];
    expect(returns.Properties.CorsConfiguration.CorsRules).toEqual([
      expect.objectContaining({ AllowedMethods: ['PUT'], AllowedOrigins: ['*'], ExposedHeaders: ['ETag'] }),
      get,
    ]);
    for (const other of ['StorageQuarantine', 'StorageRegisters']) {
      expect(resources[logicalIdOf(other, 'AWS::S3::Bucket')].Properties.CorsConfiguration.CorsRules).toEqual([get]);
    }
  });

  it('expires old register versions after the PITR window but never expires returns or quarantine', () => {
    const rules = (prefix: string) =>
      resources[logicalIdOf(prefix, 'AWS::S3::Bucket')].Properties.LifecycleConfiguration?.Rules ?? [];
    expect(rules('StorageRegisters')).toEqual([
      expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 35 } }),
      // Over-size exports parked for a presigned GET: gone after a day, versions too.
      expect.objectContaining({
        Prefix: EXPORTS_PREFIX,
        ExpirationInDays: 1,
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      }),
    ]);
    expect(rules('StorageRegisters')[0].Prefix).toBeUndefined();
    for (const prefix of ['StorageReturns', 'StorageQuarantine']) {
      for (const rule of rules(prefix)) {
        expect(rule.ExpirationInDays).toBeUndefined();
        expect(rule.NoncurrentVersionExpiration).toBeUndefined();
      }
    }
  });
});

describe('ingest pipeline', () => {
  it('has two FIFO queues with explicit deduplication ids, KMS encryption and FIFO dead-letter queues', () => {
    const receiveFailures = logicalIdOf('IngestPipelineReceiveFailures', 'AWS::SQS::Queue');
    const queues = Object.entries(template.findResources('AWS::SQS::Queue')).filter(([id]) => id !== receiveFailures);
    expect(queues).toHaveLength(4);
    for (const [, q] of queues) {
      expect(q.Properties).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: false });
      expect(q.Properties.KmsMasterKeyId).toEqual({
        'Fn::GetAtt': [logicalIdOf('StorageDataKey', 'AWS::KMS::Key'), 'Arn'],
      });
    }
    for (const [main, dlq] of [
      ['IngestPipelineIngestQueue', 'IngestPipelineIngestDeadLetters'],
      ['IngestPipelineRollupQueue', 'IngestPipelineRollupDeadLetters'],
    ]) {
      expect(resources[logicalIdOf(main, 'AWS::SQS::Queue')].Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(dlq, 'AWS::SQS::Queue'), 'Arn'] },
        maxReceiveCount: MAX_RECEIVE_COUNT,
      });
    }
  });

  it('delays rollup messages by ROLLUP_DELAY_SECONDS and does not delay ingest', () => {
    expect(resources[logicalIdOf('IngestPipelineRollupQueue', 'AWS::SQS::Queue')].Properties.DelaySeconds).toBe(
      ROLLUP_DELAY_SECONDS,
    );
    expect(
      resources[logicalIdOf('IngestPipelineIngestQueue', 'AWS::SQS::Queue')].Properties.DelaySeconds,
    ).toBeUndefined();
  });

  it('keeps S3 notifications the receive function could not hand on, encrypted, with an alarm', () => {
    const id = logicalIdOf('IngestPipelineReceiveFailures', 'AWS::SQS::Queue');
    expect(resources[id].Properties.KmsMasterKeyId).toEqual({
      'Fn::GetAtt': [logicalIdOf('StorageDataKey', 'AWS::KMS::Key'), 'Arn'],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functions.receive.logicalId },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [id, 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }],
      Threshold: 1,
    });
  });

  it('denies non-TLS access to every queue', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    expect(policies).toHaveLength(5);
    for (const p of policies) {
      expect(p.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('keeps every visibility timeout above its consumer timeout', () => {
    for (const [queue, fn] of [
      ['IngestPipelineIngestQueue', 'ingest'],
      ['IngestPipelineRollupQueue', 'rollup'],
    ] as const) {
      const visibility = resources[logicalIdOf(queue, 'AWS::SQS::Queue')].Properties.VisibilityTimeout as number;
      expect(visibility).toBeGreaterThan(functions[fn].props.Timeout as number);
    }
  });

  it('feeds ingest one message at a time with partial batch failures reported', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functions.ingest.logicalId },
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf('IngestPipelineIngestQueue', 'AWS::SQS::Queue'), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functions.rollup.logicalId },
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf('IngestPipelineRollupQueue', 'AWS::SQS::Queue'), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('invokes receive for every object created in the returns bucket', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: logicalIdOf('StorageReturns', 'AWS::S3::Bucket') },
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          { Events: ['s3:ObjectCreated:*'], LambdaFunctionArn: { 'Fn::GetAtt': [functions.receive.logicalId, 'Arn'] } },
        ],
      },
    });
  });
});

describe('functions', () => {
  const names = ['api', 'receive', 'ingest', 'rollup', 'patterns'] as const;

  it.each(names)('%s runs nodejs22.x on arm64 from the ESM bundle, with its own log group', (name) => {
    const { props } = functions[name];
    expect(props.Runtime).toBe('nodejs22.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.Handler).toBe('index.handler');
    expect(props.LoggingConfig.LogGroup.Ref).toMatch(/LogGroup/);
  });

  it.each(names)('%s gets every variable runtimeConfig() requires, with the LA from context', (name) => {
    const vars = functions[name].props.Environment.Variables as Record<string, unknown>;
    for (const required of [
      ENV.table,
      ENV.returnsBucket,
      ENV.quarantineBucket,
      ENV.registersBucket,
      ENV.ingestQueueUrl,
      ENV.rollupQueueUrl,
      ENV.laCode,
      ENV.laName,
    ]) {
      expect(vars[required], required).toBeDefined();
    }
    expect(vars[ENV.laCode]).toBe(LOCAL_LA_CODE);
    expect(vars[ENV.table]).toEqual({ Ref: logicalIdOf('StorageTable', 'AWS::DynamoDB::Table') });
    expect(vars[ENV.laSettings]).toBeUndefined();
  });

  it.each(names)(
    '%s maps stack traces to the TypeScript source (NODE_OPTIONS=--enable-source-maps, source map bundled); from 2 GB, a 64 MB young generation',
    (name) => {
      const options = functions[name].props.Environment.Variables.NODE_OPTIONS as string;
      expect(options.split(' ')).toContain('--enable-source-maps');
      const memory = functions[name].props.MemorySize as number;
      expect(options.includes('--max-semi-space-size=64')).toBe(memory >= 2048);
    },
  );

  it('tells only the api the patterns function name (patterns naming itself would be a cycle)', () => {
    expect(functions.api.props.Environment.Variables[ENV.patternsFunction]).toEqual({
      Ref: functions.patterns.logicalId,
    });
    for (const name of ['receive', 'ingest', 'rollup', 'patterns'] as const) {
      expect(functions[name].props.Environment.Variables[ENV.patternsFunction]).toBeUndefined();
    }
  });

  it('sizes patterns for the whole LA (15 minutes, 8 GB) and ingest for a large back-fill', () => {
    expect(functions.patterns.props).toMatchObject({ Timeout: 900, MemorySize: 8192 });
    expect(functions.ingest.props).toMatchObject({ Timeout: 300, MemorySize: 4096 });
    expect(functions.api.props.Timeout).toBeLessThan(30);
  });

  it('uses no AWS-managed policy on any application role', () => {
    for (const { props } of Object.values(functions)) {
      const role = resources[props.Role['Fn::GetAtt'][0]];
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('least privilege', () => {
  const roleOf = (name: keyof typeof functions) => functions[name].props.Role['Fn::GetAtt'][0] as string;
  const bucket = (prefix: string) => logicalIdOf(prefix, 'AWS::S3::Bucket');

  it('lets receive send to the ingest queue and read and write the table, and touch no bucket', () => {
    const statements = policyStatementsOfRole(roleOf('receive'));
    expect(actionsOn(statements, logicalIdOf('IngestPipelineIngestQueue', 'AWS::SQS::Queue'))).toEqual([
      'sqs:SendMessage',
    ]);
    expect(actionsOn(statements, logicalIdOf('StorageTable', 'AWS::DynamoDB::Table'))).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
    );
    expect(statements.flatMap((s) => s.Action).filter((a: string) => a.startsWith('s3:'))).toEqual([]);
  });

  it('lets ingest read returns, read and write registers and quarantine, and send to the rollup queue', () => {
    const statements = policyStatementsOfRole(roleOf('ingest'));
    expect(actionsOn(statements, bucket('StorageReturns'))).not.toContain('s3:PutObject');
    expect(actionsOn(statements, bucket('StorageReturns'))).toContain('s3:GetObject');
    for (const b of ['StorageRegisters', 'StorageQuarantine']) {
      expect(actionsOn(statements, bucket(b))).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject']));
    }
    expect(actionsOn(statements, logicalIdOf('IngestPipelineRollupQueue', 'AWS::SQS::Queue'))).toEqual([
      'sqs:SendMessage',
    ]);
  });

  it("lets the api put returns and read them (the presigned GET of a kept file carries the api's permissions), and invoke exactly the patterns function", () => {
    const statements = policyStatementsOfRole(roleOf('api'));
    expect(actionsOn(statements, bucket('StorageReturns'))).toEqual(expect.arrayContaining(['s3:PutObject']));
    // GET /v1/returns/{id}/file answers 303 to a GET presigned by the api: without GetObject S3 refuses it.
    expect(actionsOn(statements, bucket('StorageReturns'))).toEqual(expect.arrayContaining(['s3:GetObject']));
    expect(actionsOn(statements, bucket('StorageReturns'))).not.toContain('s3:DeleteObject');
    for (const b of ['StorageRegisters', 'StorageQuarantine']) {
      expect(actionsOn(statements, bucket(b))).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject']));
    }
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [functions.patterns.logicalId, 'Arn'] },
      }),
    );
  });

  it('gives patterns and rollup no access to returns or quarantine', () => {
    for (const name of ['patterns', 'rollup'] as const) {
      const statements = policyStatementsOfRole(roleOf(name));
      expect(actionsOn(statements, bucket('StorageReturns'))).toEqual([]);
      expect(actionsOn(statements, bucket('StorageQuarantine'))).toEqual([]);
    }
  });

  it('grants no function any S3 delete (every version is kept)', () => {
    for (const name of Object.keys(functions) as (keyof typeof functions)[]) {
      const actions = policyStatementsOfRole(roleOf(name)).flatMap((s) => s.Action) as string[];
      expect(actions.filter((a) => a.startsWith('s3:Delete'))).toEqual([]);
    }
  });
});

describe('api', () => {
  it('routes ANY /{proxy+} and ANY / to the api function behind the Cognito JWT authorizer', () => {
    const authorizer = logicalIdOf('ApiHttpApiCognitoAuthorizer', 'AWS::ApiGatewayV2::Authorizer');
    for (const routeKey of ['ANY /{proxy+}', 'ANY /']) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        AuthorizationType: 'JWT',
        AuthorizerId: { Ref: authorizer },
      });
    }
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 2 + allRoutes.length);
  });

  it('gives every API route its own route key, behind the JWT authorizer unless public', () => {
    const authorizer = logicalIdOf('ApiHttpApiCognitoAuthorizer', 'AWS::ApiGatewayV2::Authorizer');
    for (const def of allRoutes) {
      const isPublic = PUBLIC_ROUTES.some(([m, p]) => m === def.method && p === def.path);
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: `${def.method} ${def.path}`,
        ...(isPublic
          ? { AuthorizationType: 'NONE', AuthorizerId: Match.absent() }
          : { AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizer } }),
      });
    }
  });

  it("throttles routes on their own: /health and the documents get a small allowance outside the API's, imports and pattern runs a low one", () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0];
    const settings = stage.Properties.RouteSettings as Record<
      string,
      { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }
    >;
    expect(Object.keys(settings).sort()).toEqual(Object.keys(ROUTE_THROTTLES).sort());
    for (const [method, path] of PUBLIC_ROUTES) {
      expect(settings[`${method} ${path}`].ThrottlingRateLimit).toBeLessThanOrEqual(10);
    }
    expect(settings['POST /v1/patterns/runs']).toEqual({ ThrottlingRateLimit: 1, ThrottlingBurstLimit: 2 });
    for (const t of Object.values(settings)) {
      expect(t.ThrottlingRateLimit).toBeLessThan(STAGE_THROTTLE.rateLimit);
      expect(t.ThrottlingBurstLimit).toBeGreaterThanOrEqual(t.ThrottlingRateLimit);
    }
    // CloudFormation creates the stage after the routes its settings name.
    const routeIds = Object.entries(template.findResources('AWS::ApiGatewayV2::Route'))
      .filter(([, r]) => r.Properties.RouteKey in settings)
      .map(([id]) => id);
    expect(stage.DependsOn).toEqual(expect.arrayContaining(routeIds));
  });

  it('reserves concurrency for the api and for ingest, so neither can starve the other', () => {
    expect(functions.api.props.ReservedConcurrentExecutions).toBe(API_RESERVED_CONCURRENCY);
    expect(functions.ingest.props.ReservedConcurrentExecutions).toBe(INGEST_MAX_CONCURRENCY);
    const mapping = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).find(
      (m) => m.Properties.FunctionName.Ref === functions.ingest.logicalId,
    );
    expect(mapping?.Properties.ScalingConfig.MaximumConcurrency).toBe(INGEST_MAX_CONCURRENCY);
    // What is left unreserved of the standard 1,000 stays above Lambda's minimum of 100.
    expect(1000 - API_RESERVED_CONCURRENCY - INGEST_MAX_CONCURRENCY).toBeGreaterThanOrEqual(100);
  });

  it.each(PUBLIC_ROUTES.map(([method, path]) => `${method} ${path}`))('serves %s without a token', (routeKey) => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: routeKey,
      AuthorizationType: 'NONE',
      AuthorizerId: Match.absent(),
    });
  });

  it('checks JWTs issued by the user pool for the app client', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: logicalIdOf('AuthUserPoolApiClient', 'AWS::Cognito::UserPoolClient') }],
        Issuer: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['https://cognito-idp.'])]) }),
      },
    });
  });

  it('throttles the $default stage and writes JSON access logs without request paths (they carry UPNs)', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'));
    expect(stage).toHaveLength(1);
    const props = stage[0].Properties;
    expect(props).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: STAGE_THROTTLE.rateLimit,
        ThrottlingBurstLimit: STAGE_THROTTLE.burstLimit,
      },
    });
    expect(props.AccessLogSettings.DestinationArn).toEqual({
      'Fn::GetAtt': [logicalIdOf('ApiAccessLogs', 'AWS::Logs::LogGroup'), 'Arn'],
    });
    const format = JSON.parse(props.AccessLogSettings.Format) as Record<string, string>;
    expect(format.requestId).toBe('$context.requestId');
    expect(Object.values(format)).not.toContain('$context.path');
  });
});

describe('auth', () => {
  it('creates the four role groups', () => {
    const groups = Object.values(template.findResources('AWS::Cognito::UserPoolGroup')).map(
      (g) => g.Properties.GroupName,
    );
    expect(groups.sort()).toEqual(['admin', 'la_officer', 'school', 'vsh']);
    expect(ROLE_GROUPS.map((g) => g.name).sort()).toEqual(groups);
  });

  it('requires MFA, a 12-character mixed password, Plus threat protection and admin-created accounts', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UserPoolTier: 'PLUS',
      AdminCreateUserConfig: Match.objectLike({ AllowAdminCreateUserOnly: true }),
      Policies: {
        PasswordPolicy: Match.objectLike({
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        }),
      },
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
  });

  it('declares custom attributes la (3 characters) and urn (6 characters)', () => {
    const pool = Object.values(template.findResources('AWS::Cognito::UserPool'))[0];
    const schema = pool.Properties.Schema as any[];
    expect(schema).toContainEqual(
      expect.objectContaining({
        Name: 'la',
        AttributeDataType: 'String',
        StringAttributeConstraints: { MinLength: '3', MaxLength: '3' },
      }),
    );
    expect(schema).toContainEqual(
      expect.objectContaining({
        Name: 'urn',
        AttributeDataType: 'String',
        StringAttributeConstraints: { MinLength: '6', MaxLength: '6' },
      }),
    );
  });

  it('gives the app client no secret and no way for users to change their own la or urn', () => {
    const client = Object.values(template.findResources('AWS::Cognito::UserPoolClient'))[0].Properties;
    expect(client.GenerateSecret).toBe(false);
    expect(client.ReadAttributes).toEqual(expect.arrayContaining(['custom:la', 'custom:urn']));
    expect(client.WriteAttributes).not.toContain('custom:la');
    expect(client.WriteAttributes).not.toContain('custom:urn');
    expect(client.ExplicitAuthFlows).toEqual(
      expect.arrayContaining(['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']),
    );
  });
});

describe('schedules', () => {
  it('runs the patterns function at 02:00 Europe/London every night', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/London',
      State: 'ENABLED',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [functions.patterns.logicalId, 'Arn'] } }),
    });
  });
});

describe('monitoring', () => {
  const topicRef = () => ({ Ref: logicalIdOf('MonitoringAlarms', 'AWS::SNS::Topic') });

  it('encrypts the alarm topic with its own key and refuses non-TLS publishing', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      }),
    });
  });

  it.each(['IngestPipelineIngestDeadLetters', 'IngestPipelineRollupDeadLetters'])(
    'alarms to the topic as soon as %s holds a message',
    (dlq) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(dlq, 'AWS::SQS::Queue'), 'QueueName'] } },
        ],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [topicRef()],
      });
    },
  );

  it.each([
    [METRIC.ingestLag, 900],
    [METRIC.rollupAge, 900],
  ])(
    'alarms to the topic when the service metric %s (EMF, namespace AttendanceHub) passes %i seconds',
    (metricName, threshold) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metricName,
        Namespace: METRICS_NAMESPACE,
        Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
        Statistic: 'Maximum',
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [topicRef()],
      });
    },
  );

  it('alarms when more than half of at least ten returns in an hour are rejected', () => {
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) =>
      (a.Properties.Metrics as any[] | undefined)?.some(
        (m) => m.MetricStat?.Metric?.MetricName === METRIC.returnsRejected,
      ),
    );
    expect(alarm?.Properties).toMatchObject({
      Threshold: 50,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [topicRef()],
    });
    const metrics = alarm?.Properties.Metrics as any[];
    expect(metrics.find((m) => m.Expression)?.Expression).toContain('>= 10');
    expect(
      metrics
        .filter((m) => m.MetricStat)
        .map((m) => [m.MetricStat.Metric.MetricName, m.MetricStat.Metric.Namespace, m.MetricStat.Stat])
        .sort(),
    ).toEqual([
      [METRIC.returnsAccepted, METRICS_NAMESPACE, 'Sum'],
      [METRIC.returnsRejected, METRICS_NAMESPACE, 'Sum'],
    ]);
  });

  it("names the same metrics namespace and service in every function's Powertools environment", () => {
    for (const { props } of Object.values(functions)) {
      expect(props.Environment.Variables).toMatchObject({
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      });
    }
  });

  it('alarms on unhandled errors of each of the five functions', () => {
    for (const { logicalId } of Object.values(functions)) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId } }],
        AlarmActions: [topicRef()],
      });
    }
  });
});

describe('deployment context', () => {
  it('passes laCode, laName and LA settings overrides from context to every function', () => {
    const { stack } = build({ laCode: '201', laName: 'City of London', laSettings: '{"penaltyNoticeSessions":8}' });
    const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function', {
      Properties: { Runtime: 'nodejs22.x' },
    });
    expect(Object.keys(fns)).toHaveLength(5);
    for (const fn of Object.values(fns)) {
      expect(fn.Properties.Environment.Variables).toMatchObject({
        [ENV.laCode]: '201',
        [ENV.laName]: 'City of London',
        [ENV.laSettings]: JSON.stringify({ penaltyNoticeSessions: 8 }),
      });
    }
  });

  it('refuses an LA code that is not three digits', () => {
    expect(() => build({ laCode: '20' })).toThrow(/laCode: laCode must be the three-digit DfE LA code/);
  });

  it('refuses a misspelt LA setting rather than silently applying the default', () => {
    expect(() => build({ laSettings: { penaltyNoticeSesions: 8 } })).toThrow(/laSettings.*penaltyNoticeSesions/s);
  });

  it('refuses a penalty-notice code that is not a DfE code', () => {
    expect(() => build({ laSettings: { penaltyNoticeCodes: ['G', 'ZZ'] } })).toThrow(/penaltyNoticeCodes\.1/);
  });

  it('restricts CORS to the given web origins', () => {
    const { stack } = build({ webOrigins: 'https://attendance.example.gov.uk' });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({ AllowOrigins: ['https://attendance.example.gov.uk'] }),
    });
    t.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedOrigins: ['https://attendance.example.gov.uk'] })] },
    });
  });
});

describe('notifications (issue 19)', () => {
  const NOTIFY = { notificationsFrom: 'attendance@hub.example.gov.uk', sesIdentity: 'hub.example.gov.uk' };
  let t: Template;
  let fnId: string;
  beforeAll(() => {
    t = Template.fromStack(build(NOTIFY).stack);
    const found = Object.keys(t.findResources('AWS::Lambda::Function')).filter((id) =>
      id.startsWith('NotificationsFunction'),
    );
    expect(found).toHaveLength(1);
    fnId = found[0];
  });

  it('is left out without a From address (no function, no identity, no schedule)', () => {
    expect(Object.keys(template.findResources('AWS::SES::EmailIdentity'))).toEqual([]);
    expect(
      Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('Notifications')),
    ).toEqual([]);
  });

  it('verifies the SES identity from context (a domain, or the From address itself)', () => {
    t.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'hub.example.gov.uk' });
    Template.fromStack(build({ notificationsFrom: 'attendance@hub.example.gov.uk' }).stack).hasResourceProperties(
      'AWS::SES::EmailIdentity',
      { EmailIdentity: 'attendance@hub.example.gov.uk' },
    );
    expect(() => build({ notificationsFrom: 'someone@elsewhere.example', sesIdentity: 'hub.example.gov.uk' })).toThrow(
      /not an address at the SES identity/,
    );
  });

  it('lets the function send e-mail as that identity only, and nothing else in SES', () => {
    const statements = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as any[]).some((r) => r.Ref?.startsWith('NotificationsRole')))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as any[]);
    const ses = statements.filter((st) => [st.Action].flat().some((a: string) => a.startsWith('ses:')));
    expect(ses).toHaveLength(1);
    expect(ses[0].Action).toBe('ses:SendEmail');
    expect(JSON.stringify(ses[0].Resource)).toContain(':identity/hub.example.gov.uk');
    expect(JSON.stringify(ses[0].Resource)).not.toContain('*');
  });

  it('runs immediate alerts every 15 minutes in the school day and the digest at 16:00, weekdays, Europe/London', () => {
    for (const [expression, run] of [
      ['cron(0/15 7-18 ? * MON-FRI *)', 'immediate'],
      ['cron(0 16 ? * MON-FRI *)', 'digest'],
    ]) {
      t.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: expression,
        ScheduleExpressionTimezone: 'Europe/London',
        State: 'ENABLED',
        Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, Input: JSON.stringify({ run }) }),
      });
    }
  });

  it('serialises runs, keeps failed runs in an encrypted dead-letter queue, logs to its own group, and knows the app and the sender', () => {
    const props = t.toJSON().Resources[fnId].Properties;
    expect(props.ReservedConcurrentExecutions).toBe(1);
    expect(props.LoggingConfig.LogGroup.Ref).toMatch(/^NotificationsLogGroup/);
    expect(props.Environment.Variables[ENV.mailFrom]).toBe('attendance@hub.example.gov.uk');
    expect(props.Environment.Variables[ENV.appUrl]).toBeDefined();
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId },
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotificationsFailures'), 'Arn'] } },
      },
    });
    t.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue(), MessageRetentionPeriod: 1209600 });
  });

  it("alarms on the function's errors, failed runs and repeated send failures", () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotificationsFailures'), 'QueueName'] } },
      ],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC.notificationsFailed,
      Namespace: METRICS_NAMESPACE,
      Statistic: 'Sum',
      Threshold: 5,
    });
  });

  it('passes cdk-nag with notifications on', () => {
    expect(() => build(NOTIFY).app.synth()).not.toThrow();
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the stack', () => {
    const { app } = build();
    expect(() => app.synth()).not.toThrow();
  });

  it('is active: an unlogged, TLS-optional bucket fails synthesis with S1 and S10', () => {
    const { app, stack } = build();
    new s3.Bucket(Stack.of(stack), 'UnloggedBucket');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1'[\s\S]*AwsSolutions-S10'/);
  });
});
