import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV, PUBLIC_ROUTES } from '../shared/config.js';
import type { Auth } from './auth.js';
import { FunctionWithLogGroup } from './function-with-log-group.js';
import type { Storage } from './storage.js';

/** Steady-state and burst request rates for the whole stage (≈600 schools plus LA staff). */
export const STAGE_THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;

export interface ApiProps {
  storage: Storage;
  auth: Auth;
  environment: Record<string, string>;
  /** The function POST /v1/patterns/runs invokes asynchronously. */
  patterns: FunctionWithLogGroup;
  webOrigins: string[];
}

/** API Gateway HTTP API (payload v2) → one `api` function for every route, behind a Cognito JWT authorizer. */
export class Api extends Construct {
  readonly handler: FunctionWithLogGroup;
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { storage, patterns } = props;

    this.handler = new FunctionWithLogGroup(this, 'Handler', {
      name: 'api',
      description: 'Attendance Hub API v1 (middy router): returns, pupils, metrics, patterns, referrals',
      memorySize: 1024,
      // API Gateway gives up on an integration after 30 s.
      timeout: Duration.seconds(29),
      environment: { ...props.environment, [ENV.patternsFunction]: patterns.fn.functionName },
    });
    storage.grantTableReadWrite(this.handler);
    storage.grantObjectRead(storage.registers, this.handler, 'pupil session views read any school-year register.');
    storage.grantObjectWrite(storage.returns, this.handler, 'POST /v1/returns stores the body, and presigned PUTs are signed for, any new return key.');
    storage.grantObjectWrite(storage.registers, this.handler, 'social-care cohort imports (POST /v1/cohorts) are stored beside the registers.');
    storage.grantObjectRead(storage.quarantine, this.handler, "a school fetches its rejected file's error report by return id.");
    storage.grantObjectWrite(storage.quarantine, this.handler, 'a whole-file rejection at upload (wrong URN, not CSV/XML) is quarantined with its report.');
    // Exactly the unqualified function ARN: no `:*` versions, unlike Function.grantInvoke.
    this.handler.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [patterns.fn.functionArn] }),
    );

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Attendance Hub API v1',
      createDefaultStage: false,
      // Bearer tokens, no cookies: a wildcard origin would expose nothing a token does not.
      corsPreflight: {
        allowOrigins: props.webOrigins,
        allowMethods: [apigw.CorsHttpMethod.ANY],
        allowHeaders: ['authorization', 'content-type', 'accept', 'if-match', 'idempotency-key'],
        exposeHeaders: ['etag', 'location'],
        maxAge: Duration.hours(1),
      },
    });

    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: STAGE_THROTTLE,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        // The route key, never $context.path: paths carry UPNs (/v1/pupils/{upn}), and pupil
        // identifiers stay out of logs (DESIGN §3 Security). `sub` is Cognito's opaque user id.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            sub: '$context.authorizer.claims.sub',
            method: '$context.httpMethod',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    const integration = new HttpLambdaIntegration('ApiIntegration', this.handler.fn);
    const authorizer = new HttpUserPoolAuthorizer('CognitoAuthorizer', props.auth.userPool, {
      userPoolClients: [props.auth.client],
      identitySource: ['$request.header.Authorization'],
    });

    this.httpApi.addRoutes({ path: '/{proxy+}', methods: [apigw.HttpMethod.ANY], integration, authorizer });
    this.httpApi.addRoutes({ path: '/', methods: [apigw.HttpMethod.ANY], integration, authorizer });
    // Routes that need no token (DESIGN §4), the same list the local runtime uses.
    for (const [method, path] of PUBLIC_ROUTES) {
      const [route] = this.httpApi.addRoutes({
        path,
        methods: [httpMethod(method)],
        integration,
        authorizer: new apigw.HttpNoneAuthorizer(),
      });
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: `${method} ${path} is public by design (DESIGN §4: health, OpenAPI document and docs need no token); it returns no pupil data.`,
      });
    }
  }

  /** The API's base URL (the $default stage is served at the root). */
  get url(): string {
    return `${this.httpApi.apiEndpoint}/`;
  }
}

function httpMethod(method: string): apigw.HttpMethod {
  const found = Object.values(apigw.HttpMethod).find((m) => m === method.toUpperCase());
  if (!found) throw new Error(`PUBLIC_ROUTES has an unknown HTTP method: ${method}`);
  return found;
}
