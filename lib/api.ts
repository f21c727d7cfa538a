import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { allRoutes } from '../functions/api/routes/index.js';
import { ENV, PUBLIC_ROUTES } from '../shared/config.js';
import type { Auth } from './auth.js';
import { FunctionWithLogGroup } from './function-with-log-group.js';
import type { Storage } from './storage.js';

/**
 * Default steady-state and burst request rates of each route of the stage (≈600 schools plus LA
 * staff). In an HTTP API the stage's default route throttle is a target applied to every route key
 * separately; ROUTE_THROTTLES narrows individual routes below it.
 */
export const STAGE_THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;

/**
 * Route-level throttles (requests per second, steady / burst), so that no one route can use the
 * whole allowance and the public, unauthenticated routes get a small allowance of their own. A
 * request over a route's allowance gets API Gateway's own 429 `{"message":"Too Many Requests"}`.
 * HTTP APIs throttle per route, not per client: per-client limits are a WAF rate-based rule on a
 * CloudFront distribution in front (docs/deploying.md, "Throttling"), not possible on an HTTP API
 * directly.
 */
export const ROUTE_THROTTLES: Readonly<Record<string, { rateLimit: number; burstLimit: number; why: string }>> = {
  'GET /health': {
    rateLimit: 10,
    burstLimit: 20,
    why: "public: load-balancer and uptime checks only, outside the API's allowance",
  },
  'GET /openapi.json': { rateLimit: 5, burstLimit: 10, why: 'public documentation' },
  'GET /docs': { rateLimit: 5, burstLimit: 10, why: 'public documentation' },
  'POST /v1/returns': {
    rateLimit: 50,
    burstLimit: 100,
    why: "every school's daily upload, most of them within the same hour",
  },
  'POST /v1/returns/uploads': { rateLimit: 20, burstLimit: 40, why: 'large files: back-fills and CTFs' },
  'POST /v1/cohorts': { rateLimit: 2, burstLimit: 5, why: 'an LA list import recomputes every changed pupil' },
  'POST /v1/cohorts/uploads': { rateLimit: 2, burstLimit: 5, why: 'an LA list import' },
  'POST /v1/schools': { rateLimit: 2, burstLimit: 5, why: 'the GIAS registry: a few times a year' },
  'POST /v1/schools/uploads': { rateLimit: 2, burstLimit: 5, why: 'the GIAS registry' },
  'POST /v1/calendars': { rateLimit: 2, burstLimit: 5, why: 'term dates: a few times a year' },
  'POST /v1/patterns/runs': {
    rateLimit: 1,
    burstLimit: 2,
    why: 'each run reads every register of the LA (8 GB, minutes)',
  },
  'GET /v1/audit': { rateLimit: 10, burstLimit: 20, why: 'administrators only' },
};

/**
 * Concurrency reserved for (and capping) the api function: a flood of API requests cannot take the
 * account's concurrency from ingest, which has its own reservation (lib/ingest-pipeline.ts). At
 * 100 requests a second and ~0.1 s each the API needs about 10; 200 leaves room for slow exports.
 */
export const API_RESERVED_CONCURRENCY = 200;

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
  /** The HTTP API route of each API route, by `METHOD path`. */
  readonly routes: Record<string, apigw.HttpRoute>;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { storage, patterns } = props;

    this.handler = new FunctionWithLogGroup(this, 'Handler', {
      name: 'api',
      description: 'Attendance Hub API v1 (middy router): returns, pupils, metrics, patterns, referrals',
      memorySize: 1024,
      // API Gateway gives up on an integration after 30 s.
      timeout: Duration.seconds(29),
      reservedConcurrentExecutions: API_RESERVED_CONCURRENCY,
      environment: { ...props.environment, [ENV.patternsFunction]: patterns.fn.functionName },
    });
    storage.grantTableReadWrite(this.handler);
    storage.grantObjectRead(storage.registers, this.handler, 'pupil session views read any school-year register.');
    storage.grantObjectWrite(
      storage.returns,
      this.handler,
      'POST /v1/returns stores the body, and presigned PUTs are signed for, any new return key.',
    );
    // A presigned GET works only if its signer may GetObject (and decrypt): GET /v1/returns/{id}/file
    // answers 303 to one for any kept file, accepted files included.
    storage.grantObjectRead(
      storage.returns,
      this.handler,
      "GET /v1/returns/{id}/file presigns a GET of the kept file (303); a presigned URL carries the signer's permissions.",
    );
    storage.grantObjectWrite(
      storage.registers,
      this.handler,
      'social-care cohort imports (POST /v1/cohorts) are stored beside the registers.',
    );
    storage.grantObjectRead(
      storage.quarantine,
      this.handler,
      "a school fetches its rejected file's error report by return id.",
    );
    storage.grantObjectWrite(
      storage.quarantine,
      this.handler,
      'a whole-file rejection at upload (wrong URN, not CSV/XML) is quarantined with its report.',
    );
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
        // identifiers stay out of logs (docs/design.md §3 Security). `sub` is Cognito's opaque user id.
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

    // Every route of the API under its own route key (so it can be throttled on its own and the
    // access log's routeKey names it), each to the one function; the catch-alls answer anything
    // else with the API's own 404/405 problem. Public routes (docs/design.md §4) have no authorizer.
    this.routes = {};
    for (const def of allRoutes) {
      const isPublic = PUBLIC_ROUTES.some(([m, p]) => m === def.method && p === def.path);
      const [route] = this.httpApi.addRoutes({
        path: def.path,
        methods: [httpMethod(def.method)],
        integration,
        authorizer: isPublic ? new apigw.HttpNoneAuthorizer() : authorizer,
      });
      this.routes[`${def.method} ${def.path}`] = route;
      if (isPublic) {
        Validations.of(route).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${def.method} ${def.path} is public by design (docs/design.md §4: health, OpenAPI document and docs need no token); it returns no pupil data.`,
        });
      }
    }
    for (const [method, path] of PUBLIC_ROUTES) {
      if (!this.routes[`${method} ${path}`])
        throw new Error(`PUBLIC_ROUTES names ${method} ${path}, which is not an API route`);
    }
    this.httpApi.addRoutes({ path: '/{proxy+}', methods: [apigw.HttpMethod.ANY], integration, authorizer });
    this.httpApi.addRoutes({ path: '/', methods: [apigw.HttpMethod.ANY], integration, authorizer });

    // Route-level throttles; the stage must be created after the routes it names.
    const cfnStage = this.stage.node.defaultChild as apigw.CfnStage;
    cfnStage.routeSettings = Object.fromEntries(
      Object.entries(ROUTE_THROTTLES).map(([routeKey, t]) => {
        const route = this.routes[routeKey];
        if (!route) throw new Error(`ROUTE_THROTTLES names ${routeKey}, which is not an API route`);
        this.stage.node.addDependency(route);
        // RouteSettings is untyped JSON in CloudFormation's schema: CDK passes the keys as written.
        return [routeKey, { ThrottlingRateLimit: t.rateLimit, ThrottlingBurstLimit: t.burstLimit }];
      }),
    );
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
