import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../shared/config.js';
import { EXPORTS_PREFIX } from '../shared/store/keys.js';
import type { FunctionWithLogGroup } from './function-with-log-group.js';
import { wildcardAction, wildcardUnder } from './nag-findings.js';

export interface StorageProps {
  /** Origins allowed to PUT to presigned URLs from a browser. */
  webOrigins: string[];
}

/**
 * Everything that holds pupil data: one customer-managed KMS key, the single DynamoDB table and
 * the returns / quarantine / registers buckets, plus the bucket their server access logs go to.
 * All of it is retained when the stack is deleted: "nothing lost" (docs/design.md §3).
 */
export class Storage extends Construct {
  readonly key: kms.Key;
  readonly table: dynamodb.Table;
  readonly accessLogs: s3.Bucket;
  /** Every file a school sends, as received (API body or presigned PUT). */
  readonly returns: s3.Bucket;
  /** Rejected files and the error reports schools can fetch. */
  readonly quarantine: s3.Bucket;
  /** Canonical marks per school and academic year, rewritten by every return. */
  readonly registers: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);

    this.key = new kms.Key(this, 'DataKey', {
      description: 'Attendance Hub pupil data: DynamoDB table, S3 buckets and SQS queues',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Table (not TableV2): a single-Region deployment per LA, and cdk-nag's DDB3 check
    // (point-in-time recovery) only inspects AWS::DynamoDB::Table.
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: 35 },
      // Sent notifications are kept for a retention period, then dropped (shared/store/outbox.ts).
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_SCHEMA.gsi1.name,
      partitionKey: { name: TABLE_SCHEMA.gsi1.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.gsi1.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    // S3 delivers server access logs only to a bucket encrypted with S3-managed keys (not SSE-KMS).
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      removalPolicy: RemovalPolicy.RETAIN,
      // Two years of who touched which object, then gone; noncurrent versions only exist if
      // someone overwrites a log object, which nobody should.
      lifecycleRules: [{ expiration: Duration.days(731), noncurrentVersionExpiration: Duration.days(30) }],
    });
    // No AwsSolutions-S1 finding here: cdk-nag recognises the target of other buckets' access logs.

    this.returns = this.dataBucket('Returns', 'returns/', {
      // Browsers upload large files straight to S3 with a presigned PUT (POST /v1/returns/uploads).
      // The signature in the URL is the credential, so the origin list is defence in depth only.
      cors: [
        {
          allowedMethods: [s3.HttpMethods.PUT],
          allowedOrigins: props.webOrigins,
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag'],
          maxAge: 3000,
        },
        browserDownloads(props.webOrigins),
      ],
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(7) }],
    });
    this.quarantine = this.dataBucket('Quarantine', 'quarantine/', { cors: [browserDownloads(props.webOrigins)] });
    this.registers = this.dataBucket('Registers', 'registers/', {
      cors: [browserDownloads(props.webOrigins)],
      // Registers are derived from the returns (all kept, every version), and are rewritten by
      // every return. Old versions are kept as long as the table's point-in-time window, so a
      // restore of both lands on matching data, then expire.
      lifecycleRules: [
        { noncurrentVersionExpiration: Duration.days(35) },
        // Over-size API responses (a whole LA's CSV export) parked for a 5-minute presigned GET:
        // pupil data that must not outlive its download (functions/api/large-responses.ts).
        { prefix: EXPORTS_PREFIX, expiration: Duration.days(1), noncurrentVersionExpiration: Duration.days(1) },
      ],
    });
  }

  private dataBucket(id: string, logPrefix: string, extra: Partial<s3.BucketProps>): s3.Bucket {
    return new s3.Bucket(this, id, {
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      // One data key per bucket rather than one KMS call per object: 87 million marks a year.
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: logPrefix,
      removalPolicy: RemovalPolicy.RETAIN,
      ...extra,
    });
  }

  /**
   * GetObject (any version) and ListBucket (so a missing key is a 404, not a 403), plus decrypt.
   * Exact actions rather than Bucket.grantRead, which adds s3:GetBucket* and s3:List*.
   */
  grantObjectRead(bucket: s3.Bucket, grantee: FunctionWithLogGroup, why: string): void {
    grantee.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [bucket.arnForObjects('*')],
      }),
    );
    grantee.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
    );
    this.key.grant(grantee.role, 'kms:Decrypt');
    grantee.acknowledge(wildcardUnder(bucket, '*'), `Reads objects in ${bucket.node.id}: ${why}`);
  }

  /** PutObject (and abort of an unfinished multipart upload), with the key to encrypt. No delete: versions are kept. */
  grantObjectWrite(bucket: s3.Bucket, grantee: FunctionWithLogGroup, why: string): void {
    grantee.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects('*')],
      }),
    );
    // Decrypt as well: a multipart upload to an SSE-KMS bucket reads back the data key.
    this.key.grant(grantee.role, 'kms:GenerateDataKey', 'kms:Decrypt');
    grantee.acknowledge(wildcardUnder(bucket, '*'), `Writes objects in ${bucket.node.id}: ${why}`);
  }

  /** Items and the gsi1 index, read and write. */
  grantTableReadWrite(grantee: FunctionWithLogGroup): void {
    this.table.grantReadWriteData(grantee.role);
    this.acknowledgeTableGrant(grantee);
  }

  private acknowledgeTableGrant(grantee: FunctionWithLogGroup): void {
    grantee.acknowledge(
      wildcardUnder(this.table, 'index/*'),
      `The table's only index is ${TABLE_SCHEMA.gsi1.name}; CDK's table grant names indexes as index/*.`,
    );
    for (const action of ['kms:ReEncrypt*', 'kms:GenerateDataKey*']) {
      grantee.acknowledge(
        wildcardAction(action),
        "CDK's standard grant on the table's customer-managed key, which DynamoDB uses on the caller's behalf; scoped to that one key.",
      );
    }
  }
}

/**
 * The web app follows the API's 303s (a kept file, a large export) to presigned S3 GETs with
 * fetch(), which needs CORS on the bucket. The signature in the URL is the credential; the origin
 * list is defence in depth only.
 */
function browserDownloads(webOrigins: string[]): s3.CorsRule {
  return { allowedMethods: [s3.HttpMethods.GET], allowedOrigins: webOrigins, allowedHeaders: ['*'], maxAge: 3000 };
}
