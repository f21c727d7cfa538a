import type { Node } from 'constructs';
import * as z from 'zod';
import { LOCAL_LA_CODE, LOCAL_LA_NAME, type LaSettings } from '../shared/config.js';
import { isKnownCode } from '../shared/domain/codes.js';
import { FLAGS_SHAREABLE_WITH_SCHOOLS } from '../shared/domain/pupil-summary.js';

/**
 * What one LA's deployment is told through CDK context (`cdk deploy -c laCode=… -c laName=…`, or
 * the "context" block of cdk.json). See docs/deploying.md.
 */
export interface DeploymentSettings {
  /** The LA's three-digit DfE code (the `la` claim every token must carry). */
  laCode: string;
  laName: string;
  /** Overrides of the national defaults, passed to the Lambdas as LA_SETTINGS JSON; undefined = defaults. */
  laSettings: Partial<LaSettings> | undefined;
  /** Browser origins allowed by CORS on the API and on presigned uploads to the returns bucket. */
  webOrigins: string[];
  /** Address subscribed to the alarm topic, if given. */
  alarmEmail: string | undefined;
  /** Prefix of the Cognito managed-login domain (<prefix>.auth.<region>.amazoncognito.com); unique in the Region. */
  authDomainPrefix: string;
  /**
   * The From address of notifications (issue 19); without it the stack has no notification job.
   * `identity` is the SES identity verified and sent as: a domain (context `sesIdentity`) or the address.
   */
  notifications: { from: string; identity: string } | undefined;
}

const laSettingsSchema = z
  .object({
    penaltyNoticeCodes: z.array(z.string().refine(isKnownCode, 'a DfE attendance code (docs/design.md §2.1)')).min(1),
    penaltyNoticeSessions: z.number().int().positive(),
    penaltyNoticeWeeks: z.number().int().positive(),
    atRiskLowerPercent: z.number().min(0).max(10),
    emergingWeeks: z.number().int().positive(),
    holidayAdjacentDays: z.number().int().nonnegative(),
    noticeToImprovePeriodDays: z.number().int().positive(),
    referralTriageDays: z.number().int().positive(),
    flagsSharedWithSchools: z.array(z.enum(FLAGS_SHAREABLE_WITH_SCHOOLS)),
    partTimeTimetableReviewWeeks: z.number().int().positive(),
    unresolvedNSchoolDays: z.number().int().positive(),
    latenessWarningSessions: z.number().int().positive(),
    returnCutOff: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day HH:MM (England), e.g. "10:30"'),
  } satisfies Record<keyof LaSettings, z.ZodType>)
  // A misspelt setting would otherwise be ignored silently and the national default applied.
  .strict()
  .partial();

const contextSchema = z.object({
  laCode: z.string().regex(/^\d{3}$/, 'laCode must be the three-digit DfE LA code, e.g. "201"'),
  laName: z.string().min(1).max(200),
  laSettings: laSettingsSchema.optional(),
  webOrigins: z
    .array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'an origin such as https://attendance.example.gov.uk, or *'))
    .min(1),
  alarmEmail: z.email().optional(),
  // Cognito's rule: lower-case letters, digits and hyphens, not starting or ending with a hyphen, no "aws", "amazon" or "cognito".
  notificationsFrom: z.email().optional(),
  sesIdentity: z
    .string()
    .regex(/^(?!-)[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})+$/i, 'sesIdentity: a domain such as attendance.example.gov.uk')
    .optional(),
  authDomainPrefix: z
    .string()
    .regex(
      /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
      'authDomainPrefix: lower-case letters, digits and hyphens, e.g. "attendance-hub-201"',
    )
    .refine((p) => !/aws|amazon|cognito/.test(p), 'authDomainPrefix may not contain aws, amazon or cognito'),
});

/** Context values arrive as strings from `-c key=value` and as JSON values from cdk.json: accept both. */
function jsonOrString(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return value;
}

function originList(value: unknown): unknown {
  const parsed = jsonOrString(value);
  return typeof parsed === 'string'
    ? parsed
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean)
    : parsed;
}

/** Reads and validates the deployment's context; throws one message listing every bad value. */
export function readDeploymentSettings(node: Node): DeploymentSettings {
  const raw = {
    laCode: node.tryGetContext('laCode') ?? LOCAL_LA_CODE,
    laName: node.tryGetContext('laName') ?? LOCAL_LA_NAME,
    laSettings: jsonOrString(node.tryGetContext('laSettings')),
    webOrigins: originList(node.tryGetContext('webOrigins') ?? '*'),
    alarmEmail: node.tryGetContext('alarmEmail') || undefined,
    authDomainPrefix:
      node.tryGetContext('authDomainPrefix') ??
      `attendance-hub-${String(node.tryGetContext('laCode') ?? LOCAL_LA_CODE)}`,
    notificationsFrom: node.tryGetContext('notificationsFrom') || undefined,
    sesIdentity: node.tryGetContext('sesIdentity') || undefined,
  };
  const result = contextSchema.safeParse({ ...raw, laCode: String(raw.laCode) });
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || 'context'}: ${i.message}`);
    throw new Error(`invalid CDK context for the Attendance Hub stack:\n  ${problems.join('\n  ')}`);
  }
  const { laCode, laName, laSettings, webOrigins, alarmEmail, authDomainPrefix, notificationsFrom, sesIdentity } =
    result.data;
  if (sesIdentity && !notificationsFrom)
    throw new Error(
      'invalid CDK context for the Attendance Hub stack:\n  sesIdentity: given without notificationsFrom (the address sent from)',
    );
  if (sesIdentity && notificationsFrom && !notificationsFrom.toLowerCase().endsWith(`@${sesIdentity.toLowerCase()}`)) {
    throw new Error(
      `invalid CDK context for the Attendance Hub stack:\n  notificationsFrom: ${notificationsFrom} is not an address at the SES identity ${sesIdentity}`,
    );
  }
  const notifications = notificationsFrom
    ? { from: notificationsFrom, identity: sesIdentity ?? notificationsFrom }
    : undefined;
  return { laCode, laName, laSettings, webOrigins, alarmEmail, authDomainPrefix, notifications };
}
