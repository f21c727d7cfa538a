import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { ENV } from '../shared/config.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../shared/observability.js';
import type { DeploymentSettings } from './deployment-settings.js';
import type { Storage } from './storage.js';

export interface FunctionEnvironmentSources {
  storage: Storage;
  ingestQueue: sqs.IQueue;
  rollupQueue: sqs.IQueue;
  settings: DeploymentSettings;
}

/**
 * The variables shared/config.ts `runtimeConfig()` requires, set on every function (it throws on a
 * missing one). PATTERNS_FUNCTION_NAME is added only where the function is invoked from (the api):
 * on the patterns function itself it would be a reference to itself, a CloudFormation cycle.
 */
export function functionEnvironment(sources: FunctionEnvironmentSources): Record<string, string> {
  const { storage, ingestQueue, rollupQueue, settings } = sources;
  return {
    [ENV.table]: storage.table.tableName,
    [ENV.returnsBucket]: storage.returns.bucketName,
    [ENV.quarantineBucket]: storage.quarantine.bucketName,
    [ENV.registersBucket]: storage.registers.bucketName,
    [ENV.ingestQueueUrl]: ingestQueue.queueUrl,
    [ENV.rollupQueueUrl]: rollupQueue.queueUrl,
    [ENV.laCode]: settings.laCode,
    [ENV.laName]: settings.laName,
    ...(settings.laSettings ? { [ENV.laSettings]: JSON.stringify(settings.laSettings) } : {}),
    // Powertools: one service, one metrics namespace; the function name is already on every line.
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  };
}
