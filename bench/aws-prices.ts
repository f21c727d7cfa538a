/**
 * AWS on-demand prices for eu-west-2 (London), in US dollars, used by the bench's monthly bill
 * (bench/cost.ts). TO BE CHECKED BEFORE RELYING ON THEM: they were written down from the AWS price
 * list pages as the author knew them (no network here), stated as "AWS price list, eu-west-2, as
 * published in 2025" (DynamoDB after its November 2024 on-demand price cut). Free tiers are left out
 * (an LA's account may already use them). Change a figure here and every bill follows.
 */

export interface Price {
  /** US dollars per `per` of `unit`. */
  usd: number;
  per: number;
  unit: string;
  /** Where the figure comes from, and how sure it is. */
  source: string;
}

const LIST = 'AWS price list, eu-west-2 (London), as published in 2025; to be checked';

export const AWS_PRICES_LONDON = {
  dynamoWriteRequestUnits: {
    usd: 0.7068,
    per: 1_000_000,
    unit: 'write request units (on-demand)',
    source: `${LIST} (after the November 2024 halving of on-demand prices)`,
  },
  dynamoReadRequestUnits: {
    usd: 0.1415,
    per: 1_000_000,
    unit: 'read request units (on-demand)',
    source: `${LIST} (after the November 2024 halving of on-demand prices)`,
  },
  dynamoStorage: { usd: 0.29, per: 1, unit: 'GB-month of table storage (Standard class)', source: LIST },
  dynamoPitr: {
    usd: 0.232,
    per: 1,
    unit: 'GB-month of continuous backup (point-in-time recovery)',
    source: `${LIST}; least sure of the DynamoDB figures`,
  },
  s3Storage: { usd: 0.024, per: 1, unit: 'GB-month, S3 Standard, first 50 TB', source: LIST },
  s3PutCopyPostList: { usd: 0.0053, per: 1_000, unit: 'PUT, COPY, POST, LIST requests (S3 Standard)', source: LIST },
  s3GetAndOther: { usd: 0.00042, per: 1_000, unit: 'GET, HEAD and all other requests (S3 Standard)', source: LIST },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    per: 1,
    unit: 'GB-second, arm64 (first 7.5 billion GB-s a month)',
    source: LIST,
  },
  lambdaRequests: { usd: 0.2, per: 1_000_000, unit: 'Lambda requests', source: LIST },
  sqsFifoRequests: {
    usd: 0.5,
    per: 1_000_000,
    unit: 'SQS FIFO requests (each 64 KB chunk of a payload is one request)',
    source: LIST,
  },
  apiGatewayHttpRequests: {
    usd: 1.04,
    per: 1_000_000,
    unit: 'HTTP API requests (first 300 million a month; each 512 KB is one request)',
    source: `${LIST}; London is above us-east-1's $1.00`,
  },
  cloudWatchLogsIngestion: {
    usd: 0.5985,
    per: 1,
    unit: 'GB of log data ingested (standard class)',
    source: `${LIST}; least sure of the figures`,
  },
  cloudWatchLogsStorage: { usd: 0.0315, per: 1, unit: 'GB-month of log storage', source: LIST },
  kmsRequests: { usd: 0.03, per: 10_000, unit: 'KMS API requests (symmetric)', source: LIST },
  kmsKey: { usd: 1, per: 1, unit: 'customer-managed key per month', source: LIST },
} as const satisfies Record<string, Price>;

export type PriceName = keyof typeof AWS_PRICES_LONDON;

/** The price of `quantity` units. */
export function priceOf(
  name: PriceName,
  quantity: number,
  prices: Record<PriceName, Price> = AWS_PRICES_LONDON,
): number {
  const p = prices[name];
  return (quantity / p.per) * p.usd;
}
