/** zod schemas shared by the API contract (docs/design.md §4); the OpenAPI document is generated from them. */
import * as z from 'zod';
import { COHORTS } from '../domain/cohorts.js';
import { isIsoDate } from '../domain/dates.js';
import { checkUpn } from '../domain/upn.js';

/**
 * A date the API takes, in the years it serves (as `academicYear`, 2000–2100): year 0000 is a valid
 * ISO date, but a default derived from it (seven days earlier) is not one, and answered 500.
 */
export const IsoDate = z
  .string()
  .refine((s) => isIsoDate(s) && s >= '2000-01-01' && s <= '2100-12-31', {
    message: 'expected a date as YYYY-MM-DD, from 2000 to 2100',
  })
  .meta({ description: 'ISO date, YYYY-MM-DD (2000–2100)' });
export const Urn = z
  .string()
  .regex(/^\d{6}$/, { message: 'expected a 6-digit URN' })
  .meta({ description: 'Unique Reference Number of a school (6 digits)' });
export const Upn = z
  .string()
  .transform((s) => s.trim().toUpperCase())
  .refine((s) => checkUpn(s).ok, { message: 'expected a 13-character UPN with a valid check letter' })
  .meta({ description: 'Unique Pupil Number' });
export const CohortName = z.enum(COHORTS);

/** Who a pupil is, as a pupil's views name them (null where no return stated it). */
export const PupilNames = {
  upn: z.string(),
  forename: z.string().nullable(),
  surname: z.string().nullable(),
  dob: z.string().nullable(),
  yearGroup: z.string().nullable(),
};

/**
 * A schema checked to describe exactly the type `T` the code answers: `exactly<T>()(z.object(...))`
 * compiles only when the schema's output and `T` are one shape, so the contract cannot drift from it.
 */
export const exactly =
  <T>() =>
  <S extends z.ZodType<T>>(schema: S & ([T] extends [z.output<S>] ? unknown : never)): S =>
    schema;

export const Stats = z
  .object({
    possibleSessions: z.number().int(),
    attendedSessions: z.number().int(),
    presentSessions: z.number().int(),
    approvedActivitySessions: z.number().int(),
    authorisedAbsenceSessions: z.number().int(),
    unauthorisedAbsenceSessions: z.number().int(),
    absenceSessions: z.number().int(),
    lateSessions: z.number().int(),
    attendanceRate: z.number().nullable(),
    absenceRate: z.number().nullable(),
    authorisedAbsenceRate: z.number().nullable(),
    unauthorisedAbsenceRate: z.number().nullable(),
    codes: z.record(z.string(), z.number().int()),
  })
  .meta({
    id: 'Stats',
    description: 'Session counts and rates by the DfE methodology; rates are null with no possible sessions',
  });

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z
      .array(
        z.object({
          field: z.string().optional(),
          line: z.number().int().optional(),
          code: z.string().optional(),
          message: z.string(),
        }),
      )
      .optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

export function page<T extends z.ZodType>(item: T, id: string) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() }).meta({ id });
}
