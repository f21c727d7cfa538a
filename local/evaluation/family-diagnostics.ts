/**
 * Diagnostics for the family detector on the varied LAs (issue 21, sixth pass): every planted family
 * the detector claims as of each scoring date, each child's own holiday-adjacent test (the loose
 * filter a child must pass to be compared at all) and, for each pair of children at different
 * schools, the pair's evidence or the first condition it fails (family.ts `pairEvidence`). For
 * reading the recall margin on the tuned and seen seeds only; never run it on an unseen seed before
 * the rule is fixed.
 *
 *   npx tsx local/evaluation/family-diagnostics.ts --seeds varied-1 [--dates 2026-01-31,...] [--all]
 *
 * Prints the claimed families that are missed (`--all`: every claimed family).
 */
import { parseArgs } from 'node:util';
import { pupilTimeline } from '../../shared/domain/school-weeks.js';
import {
  addPatternEnrolments,
  analyseHolidayAdjacency,
  DEFAULT_PATTERN_SETTINGS,
  pupilPatternContext,
  schoolPatternDigest,
  type PatternEnrolment,
  type SchoolPatternSource,
} from '../../shared/domain/patterns/index.js';
import { householdMember, pairEvidence, type HouseholdMember } from '../../shared/domain/patterns/family.js';
import { analysisWindow } from '../../shared/domain/patterns/index.js';
import { claimsFamily, pupilTruth, VARIED_DATES } from './varied-evaluation.js';
import { generateVariedLa, registerAsOf, VARIED_YEAR, variedCalendar, type VariedLa } from './varied-la.js';

function diagnoseFamilies(la: VariedLa, date: string, all: boolean, settings = DEFAULT_PATTERN_SETTINGS): string[] {
  const previous = new Map(la.previousRegisters.map((r) => [r.urn, r]));
  const schools: SchoolPatternSource[] = la.registers.map((r) => {
    const registers = [previous.get(r.urn), registerAsOf(r, date)].filter((x) => x !== undefined);
    return { urn: r.urn, registers, calendar: variedCalendar(r.urn, registers, la.closures) };
  });
  const period = { from: `${VARIED_YEAR}-08-01`, to: date };
  const ctx = pupilPatternContext(
    schools.map((s) => schoolPatternDigest(s, period, settings)),
    period,
    settings,
  );
  const byUpn = new Map<string, PatternEnrolment[]>();
  for (const s of schools) for (const r of s.registers) addPatternEnrolments(r, byUpn);
  const truth = pupilTruth(la, date, analysisWindow(period, settings.holidayAdjacent.windowMonths).from);
  const out: string[] = [];
  let claimed = 0;
  let found = 0;
  for (const b of la.behaviours.filter((x) => x.kind === 'family')) {
    if (!claimsFamily(la, b, truth)) continue;
    claimed++;
    const members: HouseholdMember[] = [];
    const kids: string[] = [];
    for (const upn of b.upns) {
      const enrolments = byUpn.get(upn);
      if (!enrolments) continue;
      const t = pupilTimeline(enrolments, ctx.sessionDays);
      const a = analyseHolidayAdjacency(t, ctx.adjacency, ctx.window, ctx.rise ?? null);
      const m = householdMember(upn, b.id, t, a, settings);
      if (m) members.push(m);
      const tr = truth.get(upn);
      kids.push(
        `${upn} at ${la.pupils.get(upn)?.urn}${la.pupils.get(upn)?.previousMarks ? '' : ' (new)'}: p ${a.test ? a.test.pValue.toExponential(1) : 'no test'}, ${a.breaksTouched} breaks${m ? '' : ' — not compared'}; planted ${tr?.plantedAdjacent ?? 0} of ${tr?.counted ?? 0} counted`,
      );
    }
    const pairs: string[] = [];
    let ok = false;
    for (let i = 0; i < members.length; i++)
      for (let j = i + 1; j < members.length; j++) {
        const r = pairEvidence(members[i], members[j], settings);
        if ('failed' in r) {
          if (r.failed !== 'same_school')
            pairs.push(
              `fails ${r.failed} (${r.sharedDays} shared days${r.expected !== undefined ? `, ${r.expected.toFixed(1)} expected` : ''}${r.pValue !== undefined ? `, p ${r.pValue.toExponential(1)}` : ''}${r.netBreaks !== undefined ? `, net breaks ${r.netBreaks}` : ''})`,
            );
        } else {
          ok = true;
          pairs.push(
            `FOUND (${r.dates.length} shared days, ${r.expected.toFixed(1)} expected, p ${r.pValue.toExponential(1)})`,
          );
        }
      }
    if (ok) found++;
    if (!ok || all)
      out.push(
        `  ${ok ? 'found' : 'MISSED'} ${b.id}: ${b.detail}\n    ${kids.join('\n    ')}\n    pairs: ${pairs.join('; ') || 'none compared'}`,
      );
  }
  return [`${la.seed} ${date}: ${found} of ${claimed} claimed families found`, ...out];
}

function main(): void {
  const { values } = parseArgs({
    options: { seeds: { type: 'string' }, dates: { type: 'string' }, all: { type: 'boolean' } },
  });
  const seeds = (values.seeds ?? 'varied-1').split(',');
  const dates = values.dates?.split(',') ?? [...VARIED_DATES];
  for (const seed of seeds) {
    process.stderr.write(`${seed}: generating…\n`);
    const la = generateVariedLa({ seed, schools: 24, pupils: 8_000 });
    for (const date of dates) process.stdout.write(`${diagnoseFamilies(la, date, values.all === true).join('\n')}\n`);
  }
}

main();
