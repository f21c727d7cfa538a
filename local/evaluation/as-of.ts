/**
 * The varied LA as the nightly run would see it on a scoring date (issue 21): this year's registers to
 * the date beside last year's, each school with its own calendar. One place for the evaluation and
 * the diagnostics scripts, so a diagnosis reads exactly what was scored.
 */
import {
  addPatternEnrolments,
  pupilPatternContext,
  schoolPatternDigest,
  type PatternEnrolment,
  type PatternSettings,
  type SchoolPatternSource,
} from '../../shared/domain/patterns/index.js';
import { registerAsOf, VARIED_YEAR, variedCalendar, type VariedLa } from './varied-la.js';

/** Every school's registers as of `date` (last year's whole, this year's to the date) and calendar. */
export function schoolSourcesAsOf(la: VariedLa, date: string): SchoolPatternSource[] {
  const previous = new Map(la.previousRegisters.map((r) => [r.urn, r]));
  return la.registers.map((r) => {
    const registers = [previous.get(r.urn), registerAsOf(r, date)].filter((x) => x !== undefined);
    return { urn: r.urn, registers, calendar: variedCalendar(r.urn, registers, la.closures) };
  });
}

/** What the per-pupil detectors read as of `date`: the LA's pattern context and each pupil's enrolments. */
export function pupilInputsAsOf(la: VariedLa, date: string, settings: PatternSettings) {
  const schools = schoolSourcesAsOf(la, date);
  const period = { from: `${VARIED_YEAR}-08-01`, to: date };
  const ctx = pupilPatternContext(
    schools.map((s) => schoolPatternDigest(s, period, settings)),
    period,
    settings,
  );
  const byUpn = new Map<string, PatternEnrolment[]>();
  for (const s of schools) for (const r of s.registers) addPatternEnrolments(r, byUpn);
  return { schools, period, ctx, byUpn };
}
