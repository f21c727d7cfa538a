import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations, type Stack as StackType } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { DockerImage } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';
import { PROJECT_ROOT } from './function-with-log-group.js';
import { wildcardAction, wildcardUnder } from './nag-findings.js';

export interface WebHostingProps {
  /** Where S3 server access logs go (Storage's access-log bucket). */
  accessLogs: s3.IBucket;
}

/** The browser's settings file (web/src/auth.ts AppConfig): Cognito managed login and the API's URL. */
export interface WebConfig {
  apiBase: string;
  laName: string;
  cognito: { domain: string; clientId: string; redirectUri: string; logoutUri: string; scopes: string[] };
}

/** Only our own scripts and styles; the API and Cognito are the only other origins the app talks to. */
const WEB_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self' https://*.amazonaws.com https://*.amazoncognito.com",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/**
 * The web app (web/, issue 18) in AWS: its built files in a private S3 bucket behind CloudFront
 * (origin access control, HTTPS only, security headers), plus `config.json` telling the app where
 * the API and Cognito's managed login are. The API stays on its own origin with CORS (its preflight
 * is answered by API Gateway's CORS configuration, never by the JWT authorizer).
 */
export class WebHosting extends Construct {
  readonly bucket: s3.Bucket;
  readonly logs: s3.Bucket;
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: WebHostingProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Assets', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'web-assets/',
      // The built app holds no data; each deployment replaces it.
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
    });
    // CloudFront standard logs are written with ACLs, so their bucket must allow them.
    this.logs = new s3.Bucket(this, 'CdnLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'web-cdn-logs/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(731) }],
    });

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Attendance Hub web app: CSP, HSTS, no framing, no sniffing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: WEB_CONTENT_SECURITY_POLICY, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
      },
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Attendance Hub web app',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: this.logs,
      logFilePrefix: 'cloudfront/',
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'The LA’s staff and schools may work from anywhere (home, placements out of area); sign-in is the control, not geography.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'The distribution serves only static files of the app; every data request goes to the API, which throttles and checks a JWT. An LA adds AWS WAF with its own rules where its policy asks (docs/deploying.md).',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The default *.cloudfront.net certificate cannot pin a minimum TLS version; docs/deploying.md adds the LA’s own domain and ACM certificate with TLSv1.2_2021. The app holds no data: every request for data goes to the API over TLS 1.2.',
      },
    );
  }

  /** https://<distribution>.cloudfront.net */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }

  /** Put the built app and its config.json in the bucket and refresh CloudFront (after the API and auth exist). */
  deploy(config: WebConfig): void {
    const webDir = join(PROJECT_ROOT, 'web');
    const app = s3deploy.Source.asset(webDir, {
      // Built on the deploying machine by esbuild (npm run build:web); no container.
      bundling: {
        image: DockerImage.fromRegistry('none'),
        local: {
          tryBundle(outputDir: string): boolean {
            execFileSync(process.execPath, ['--import', 'tsx', join(webDir, 'build.ts'), outputDir], {
              cwd: PROJECT_ROOT,
              stdio: 'inherit',
            });
            return true;
          },
        },
      },
    });
    const deployment = new s3deploy.BucketDeployment(this, 'Deploy', {
      sources: [app, s3deploy.Source.jsonData('config.json', { auth: 'cognito', ...config })],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      // Not content-hashed: browsers revalidate each file (CloudFront answers 304 from its cache).
      cacheControl: [s3deploy.CacheControl.noCache()],
      memoryLimit: 512,
    });
    acknowledgeDeploymentHandler(Stack.of(this), deployment, this.bucket);
  }
}

/** CDK's BucketDeployment runs a singleton Lambda it defines itself (its role and policy); it runs only while deploying. */
function acknowledgeDeploymentHandler(stack: StackType, deployment: IConstruct, bucket: s3.IBucket): void {
  const copy =
    'CDK’s BucketDeployment copies the built app from the CDK asset into the web bucket (replacing what was there) and invalidates the distribution; it runs only during deployments.';
  const reasons = [
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'CDK’s BucketDeployment handler writes its own logs with the basic execution role; it runs only during deployments.',
    },
    ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((a) => ({
      id: wildcardAction(a),
      reason: copy,
    })),
    {
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
      reason: `${copy} It reads the CDK asset bucket's objects.`,
    },
    { id: wildcardUnder(bucket, '*'), reason: `${copy} It writes every object of the web bucket.` },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudfront:CreateInvalidation and GetInvalidation take no resource narrower than *; CDK’s BucketDeployment uses them to refresh the web app after each deployment.',
    },
    {
      id: 'AwsSolutions-L1',
      reason: 'The runtime of CDK’s BucketDeployment handler is chosen by aws-cdk-lib and moves with it.',
    },
  ];
  Validations.of(deployment).acknowledge(...reasons);
  for (const child of stack.node.children) {
    if (child.node.id.startsWith('Custom::CDKBucketDeployment')) Validations.of(child).acknowledge(...reasons);
  }
}
