/**
 * AWS SDK clients, created once per process (module scope, reused across Lambda invocations).
 * Endpoints come from the standard AWS_ENDPOINT_URL_* variables, so the local runtime needs no
 * special code path.
 */
import { optionalSetting } from '../config.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LambdaClient } from '@aws-sdk/client-lambda';

let ddb: DynamoDBDocumentClient | undefined;
let s3: S3Client | undefined;
let sqs: SQSClient | undefined;
let lambda: LambdaClient | undefined;

export function documentClient(): DynamoDBDocumentClient {
  ddb ??= DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5 }), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return ddb;
}

export function s3Client(): S3Client {
  // Path-style addressing works against both S3 and a loopback S3 endpoint.
  s3 ??= new S3Client({ forcePathStyle: Boolean(optionalSetting('AWS_ENDPOINT_URL_S3')), maxAttempts: 5 });
  return s3;
}

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({ maxAttempts: 5 });
  return sqs;
}

export function lambdaClient(): LambdaClient {
  lambda ??= new LambdaClient({ maxAttempts: 3 });
  return lambda;
}

/** Forget clients (tests and the local runtime restart engines on new ports). */
export function resetClients(): void {
  ddb?.destroy();
  s3?.destroy();
  sqs?.destroy();
  lambda?.destroy();
  ddb = undefined;
  s3 = undefined;
  sqs = undefined;
  lambda = undefined;
}
