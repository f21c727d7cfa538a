/**
 * Diagnostics for the holiday-adjacent detector on the varied LAs (issue 21): every pupil who is
 * claimed, flagged, or whose exact test comes anywhere near a flag, as of each scoring date, with the
 * evidence the rule can read (separate absences beside breaks, their lengths and sides, other
 * absences, the p-value) and what the pupil is in the ground truth. For settling the flag rule on the
 * tuned seeds only; never run it on a holdout seed before the rule is fixed.
 *
 *   npx tsx local/evaluation/holiday-diagnostics.ts --seeds varied-1 [--dates 2026-01-31,...] [--out FILE] [--uniform]
 *
 * Prints the flagged-but-unclaimed (FP, may, control) and claimed-but-missed (FN) pupils per date;
 * `--out` writes every candidate as JSON lines for trying rules offline; `--uniform` tests under the
 * uniform null (no LA rise fitted).
 */
import { pupilInputsAsOf } from './as-of.js';
import { DEFAULT_LA_SETTINGS } from '../../shared/config.js';
import { pupilTimeline } from '../../shared/domain/school-weeks.js';
import {
  analyseHolidayAdjacency,
  analysisWindow,
  DEFAULT_PATTERN_SETTINGS,
  patternSettings,
} from '../../shared/domain/patterns/index.js';
import { isHolidayAdjacentPattern } from '../../shared/domain/patterns/holiday-adjacent.js';
import { runDiagnostics } from './run-diagnostics.js';
import { claimsHoliday, pupilControls, pupilTruth } from './varied-evaluation.js';
import type { VariedLa } from './varied-la.js';

export interface HolidayCandidate {
  seed: string;
  date: string;
  upn: string;
  /** claimed (a positive), planted (other holiday-type planting or a non-control plant: "may"), control, none (an FP if flagged). */
  truth: 'claimed' | 'planted' | 'control' | 'none';
  flagged: boolean;
  pValue: number;
  observed: number;
  expected: number;
  absenceSessions: number;
  spells: number;
  breaksWithAbsence: number;
  /** Separate absences beside breaks: their lengths (sessions), sides, and what each counts for (2: fills both sides). */
  beside: Array<{ sessions: number; sides: number; counts: number }>;
  /** Whether every condition but the count of absences beside breaks and the p-value holds (sessions, breaks, ratio). */
  otherConditions: boolean;
  /** The sessions and breaks conditions alone (without the ratio), for trying ratio rules offline. */
  sessionsAndBreaks: boolean;
  /** Separate absences touching a break, and the number expected under the test's null. */
  adjacentSpells: number;
  expectedAdjacentSpells: number;
  /** Whether the analysis used the fitted null (fittedAlpha applies). */
  fitted: boolean;
  /** What the ground truth says (claimed pupils: sides, planted sessions, other absences). */
  planted?: string;
  /** The ground truth's figures, for trying claims offline (varied-evaluation.ts PupilTruth). */
  claim?: {
    sides: number;
    breaks: number;
    plantedAdjacent: number;
    counted: number;
    otherSpells: number;
    chance: number | null;
    pieces: number | null;
  };
}

function candidates(la: VariedLa, date: string, settings = DEFAULT_PATTERN_SETTINGS): HolidayCandidate[] {
  const { period, ctx, byUpn } = pupilInputsAsOf(la, date, settings);
  const window = analysisWindow(period, settings.holidayAdjacent.windowMonths);
  const truth = pupilTruth(la, date, window.from);
  const controls = pupilControls(la);
  const planted = new Set<string>();
  for (const b of la.behaviours) for (const u of b.upns) planted.add(u);
  const out: HolidayCandidate[] = [];
  for (const [upn, enrolments] of byUpn) {
    const t = pupilTimeline(enrolments, ctx.sessionDays);
    const a = analyseHolidayAdjacency(t, ctx.adjacency, ctx.window, ctx.rise ?? null);
    const tr = truth.get(upn);
    const claimed = claimsHoliday(tr);
    const flagged = isHolidayAdjacentPattern(a, settings);
    if (!a.test || (!claimed && !flagged && a.test.pValue > 0.02 && !((tr?.chance ?? 1) <= 0.01))) continue;
    out.push({
      seed: la.seed,
      date,
      upn,
      truth: claimed ? 'claimed' : controls.has(upn) ? 'control' : planted.has(upn) || tr ? 'planted' : 'none',
      flagged,
      pValue: a.test.pValue,
      observed: a.test.observed,
      expected: a.test.expected,
      absenceSessions: a.absenceSessions,
      spells: a.test.spells,
      breaksWithAbsence: a.breaksWithAbsence,
      beside: a.besideBreaks,
      sessionsAndBreaks:
        a.test.observed >= settings.holidayAdjacent.minSessions &&
        a.breaksWithAbsence >= settings.holidayAdjacent.minBreaks,
      adjacentSpells: a.test.adjacentSpells,
      expectedAdjacentSpells: a.test.expectedAdjacentSpells,
      fitted: a.rise !== null && a.rise !== undefined,
      otherConditions:
        a.test.observed >= settings.holidayAdjacent.minSessions &&
        a.breaksWithAbsence >= settings.holidayAdjacent.minBreaks &&
        a.test.observed >= settings.holidayAdjacent.minRatio * a.test.expected,
      ...(tr
        ? {
            claim: {
              sides: tr.sides,
              breaks: tr.breaks.size,
              plantedAdjacent: tr.plantedAdjacent,
              counted: tr.counted,
              otherSpells: tr.otherSpells ?? 0,
              chance: tr.chance ?? null,
              pieces: tr.pieces ?? null,
            },
            planted: `${tr.sides} sides, ${tr.breaks.size} breaks, ${tr.plantedAdjacent} of ${tr.counted} sessions, ${tr.otherSpells ?? 0} others; ${la.pupils
              .get(upn)
              ?.plants.map((x) => x.kind)
              .join('+')}`,
          }
        : {}),
    });
  }
  return out;
}

const describe = (c: HolidayCandidate) =>
  `${c.upn} p ${c.pValue.toExponential(1)}; ${c.beside.length} beside breaks (${c.beside.map((b) => `${b.sessions}${b.counts > 1 ? '×2' : b.sides > 1 ? '(2 sides)' : ''}`).join(' ')}), ${c.spells - c.beside.length} others; ${c.observed}/${c.absenceSessions} sessions, ${c.breaksWithAbsence} breaks${c.planted ? `; truth: ${c.planted}` : ''}`;

runDiagnostics(['uniform'], (la, date, { uniform }) => {
  const list = candidates(
    la,
    date,
    uniform ? patternSettings(DEFAULT_LA_SETTINGS, { holidayAdjacent: { fitLaRise: false } }) : undefined,
  );
  const fp = list.filter((c) => c.flagged && c.truth !== 'claimed');
  const fn = list.filter((c) => !c.flagged && c.truth === 'claimed');
  const tp = list.filter((c) => c.flagged && c.truth === 'claimed');
  process.stdout.write(`\n${la.seed} ${date}: ${tp.length} TP, ${fp.length} flagged unclaimed, ${fn.length} FN\n`);
  for (const c of fp) process.stdout.write(`  flagged ${c.truth}: ${describe(c)}\n`);
  for (const c of fn) process.stdout.write(`  FN: ${describe(c)}\n`);
  return list.map((c) => JSON.stringify(c));
});
