/**
 * Detector 2, near-threshold unauthorised absence (docs/design.md §2.6): the penalty-notice window (10
 * school weeks, codes G/N/O/U by default, across every school and academic year: the rolling window
 * of national-framework.ts, reused here) kept just under the threshold — 8 or 9 sessions with the
 * defaults — or a holiday split into unauthorised days plus "illness".
 *
 * Kept under: a near-threshold episode is a run of school weeks whose window count is at least
 * threshold − margin and never reaches the threshold (a run that reaches it is the penalty-notice
 * threshold itself, flagged elsewhere). Its peak window is the first window of the run holding the
 * run's highest count. It qualifies only when that window holds an unbroken run of at least
 * `minRunSessions` unauthorised sessions (default 8), at least half of them in `holidayCodes`
 * (default G): the count just under the threshold is one holiday kept there, not a shorter absence
 * topped up with scattered late marks or odd days, nor days off with no reason given — decided here,
 * for precision (ordinary unauthorised absence reaches 8 in a window both ways). An LA that wants
 * the design's wider reading sets `holidayCodes` to the whole penalty-notice code set.
 * Flagged when at least `minEpisodes` qualifying episodes share no session (default 1, the design's
 * definition: reason `peaked_under`; two or more: reason `repeated`). An LA that wants only repeated
 * patterns sets `minEpisodes` to 2.
 *
 * Illness tops it up (a split holiday): an unbroken run of at least `splitMinRunSessions`
 * unauthorised sessions, at least half of them in `holidayCodes` (default G: the school recorded a
 * holiday), whose windows never reach the threshold, but which the illness (I) sessions immediately
 * before or after it (consecutive possible sessions; not-possible sessions neither break nor extend
 * the run, as in §2.5) would take to the threshold or beyond.
 */
import { MARK_CHAR } from '../codes.js';
import { dayNumber, fromDayNumber, SESSIONS_PER_YEAR_SLOT } from '../dates.js';
import { rollingWindowCounts } from '../national-framework.js';
import {
  dayOfSlot,
  markSet,
  MARK_RANK,
  RANK_UNAUTHORISED,
  schoolWeekOfDay,
  sessionEvidence,
  sessionSlotOfDay,
  type PupilTimeline,
} from '../school-weeks.js';
import type { NearThresholdEpisode, NearThresholdFinding, NearThresholdReason } from './findings.js';
import type { Period } from './holiday-adjacent.js';
import type { PatternSettings } from './settings.js';
import { listOf, plural, spokenDate } from './wording.js';

const ILLNESS = MARK_CHAR.I.charCodeAt(0);

function isPossibleSlot(t: PupilTimeline, s: number): boolean {
  return MARK_RANK[t.marks[s]] >= RANK_UNAUTHORISED;
}

/** Illness sessions directly before (step −1) or after (step 1) slot `from`, over possible sessions. */
function illnessRun(t: PupilTimeline, from: number, step: 1 | -1): number[] {
  const out: number[] = [];
  for (let s = from + step; s >= 0 && s < t.marks.length; s += step) {
    if (!isPossibleSlot(t, s)) continue;
    if (t.marks[s] !== ILLNESS) break;
    out.push(s);
  }
  return out;
}

interface EpisodeSlots {
  weekFrom: number;
  weekTo: number;
  count: number;
  slots: number[];
  longestRun: number;
  /** Longest run at least half of whose sessions are in the holiday codes. */
  longestHolidayRun: number;
  illness: number[];
}

/** The counted slots of the window of school weeks [k0, k1], its longest runs, and the illness around its runs. */
function windowSlots(t: PupilTimeline, set: Uint8Array, holiday: Uint8Array, k0: number, k1: number): EpisodeSlots {
  const slots: number[] = [];
  const firstDay = t.weeks[k0];
  const lastDay = t.weeks[k1] + 6;
  const firstSlot = sessionSlotOfDay(t, firstDay);
  const lastSlot = sessionSlotOfDay(t, lastDay);
  // A window's first or last week may reach outside the timeline's years.
  const lo = firstSlot >= 0 ? firstSlot : 0;
  const hi = lastSlot >= 0 ? lastSlot + 1 : t.years * SESSIONS_PER_YEAR_SLOT - 1;
  let longestRun = 0;
  let longestHolidayRun = 0;
  let run = 0;
  let runHoliday = 0;
  let runStart = -1;
  let prev = -1;
  const illness = new Set<number>();
  const closeRun = () => {
    if (run > 0) {
      for (const s of illnessRun(t, runStart, -1)) illness.add(s);
      for (const s of illnessRun(t, prev, 1)) illness.add(s);
      if (runHoliday * 2 >= run && run > longestHolidayRun) longestHolidayRun = run;
    }
    run = 0;
    runHoliday = 0;
  };
  for (let s = lo; s <= hi; s++) {
    if (!isPossibleSlot(t, s)) continue;
    const day = t.yearStartDay[Math.floor(s / SESSIONS_PER_YEAR_SLOT)] + ((s % SESSIONS_PER_YEAR_SLOT) >> 1);
    if (day < firstDay || day > lastDay) continue;
    if (set[t.marks[s]]) {
      if (run === 0) runStart = s;
      run++;
      if (holiday[t.marks[s]]) runHoliday++;
      prev = s;
      slots.push(s);
      if (run > longestRun) longestRun = run;
    } else {
      closeRun();
    }
  }
  closeRun();
  return {
    weekFrom: k0,
    weekTo: k1,
    count: slots.length,
    slots,
    longestRun,
    longestHolidayRun,
    illness: [...illness].sort((a, b) => a - b),
  };
}

function toEpisode(t: PupilTimeline, e: EpisodeSlots): NearThresholdEpisode {
  return {
    firstWeek: fromDayNumber(t.weeks[e.weekFrom]),
    lastWeek: fromDayNumber(t.weeks[e.weekTo]),
    schoolWeeks: e.weekTo - e.weekFrom + 1,
    unauthorisedSessions: e.count,
    longestRun: e.longestRun,
    sessions: e.slots.map((s) => sessionEvidence(t, s)),
    contiguousIllness: e.illness.map((s) => sessionEvidence(t, s)),
  };
}

/** Qualifying near-threshold episodes of the timeline whose peak week starts in `period`, in date order. */
export function nearThresholdEpisodes(
  t: PupilTimeline,
  settings: PatternSettings,
  period: Period,
): NearThresholdEpisode[] {
  const counts = rollingWindowCounts(t, settings.penaltyNoticeCodes, settings.penaltyNoticeWeeks);
  return qualifyingEpisodes(t, settings, period, counts.windowSessions, counts.peak).map((e) => toEpisode(t, e));
}

function qualifyingEpisodes(
  t: PupilTimeline,
  settings: PatternSettings,
  period: Period,
  windowSessions: Int32Array,
  peak: number,
): EpisodeSlots[] {
  const threshold = settings.penaltyNoticeSessions;
  const low = threshold - settings.nearThreshold.margin;
  const windowWeeks = settings.penaltyNoticeWeeks;
  if (peak < low) return [];
  const set = markSet(settings.penaltyNoticeCodes);
  const holiday = markSet(settings.nearThreshold.holidayCodes);
  const fromDay = dayNumber(period.from);
  const toDay = dayNumber(period.to);
  const w = windowSessions;
  const out: EpisodeSlots[] = [];
  for (let k = 0; k < w.length; k++) {
    if (w[k] < low) continue;
    let end = k;
    let peakWeek = k;
    while (end + 1 < w.length && w[end + 1] >= low) {
      end++;
      if (w[end] > w[peakWeek]) peakWeek = end;
    }
    const reachesThreshold = w[peakWeek] >= threshold;
    k = end;
    if (reachesThreshold) continue;
    if (t.weeks[peakWeek] < fromDay - 6 || t.weeks[peakWeek] > toDay) continue;
    const e = windowSlots(t, set, holiday, Math.max(0, peakWeek - windowWeeks + 1), peakWeek);
    if (e.longestHolidayRun < settings.nearThreshold.minRunSessions) continue;
    out.push(e);
  }
  return out;
}

/** Holidays split into unauthorised days plus contiguous illness that would reach the threshold (module comment). */
function splitEpisodes(
  t: PupilTimeline,
  settings: PatternSettings,
  period: Period,
  windowSessions: Int32Array,
): EpisodeSlots[] {
  const threshold = settings.penaltyNoticeSessions;
  const W = settings.penaltyNoticeWeeks;
  const set = markSet(settings.penaltyNoticeCodes);
  const holiday = markSet(settings.nearThreshold.holidayCodes);
  const fromDay = dayNumber(period.from);
  const toDay = dayNumber(period.to);
  const out: EpisodeSlots[] = [];
  let run: number[] = [];
  const close = () => {
    const r = run;
    run = [];
    if (r.length < settings.nearThreshold.splitMinRunSessions) return;
    let holidaySessions = 0;
    for (const slot of r) if (holiday[t.marks[slot]]) holidaySessions++;
    if (holidaySessions * 2 < r.length) return;
    const lastDay = dayOfSlot(t, r[r.length - 1]);
    if (lastDay < fromDay || lastDay > toDay) return;
    const illness = [...illnessRun(t, r[0], -1), ...illnessRun(t, r[r.length - 1], 1)].sort((a, b) => a - b);
    if (r.length + illness.length < threshold) return;
    const k0 = schoolWeekOfDay(t, dayOfSlot(t, r[0]));
    const k1 = schoolWeekOfDay(t, lastDay);
    if (k0 < 0 || k1 < 0) return;
    // Every window holding the run stays under the threshold (else the threshold itself was met).
    for (let k = k0; k <= Math.min(windowSessions.length - 1, k1 + W - 1); k++)
      if (windowSessions[k] >= threshold) return;
    const e = windowSlots(t, set, holiday, Math.max(0, k1 - W + 1), k1);
    e.illness = illness;
    out.push(e);
  };
  for (let s = 0; s < t.marks.length; s++) {
    if (!isPossibleSlot(t, s)) continue;
    if (set[t.marks[s]]) run.push(s);
    else if (run.length > 0) close();
  }
  if (run.length > 0) close();
  return out;
}

/** The finding for a pupil over `period`, or null (conditions in the module comment). */
export function nearThresholdFinding(
  upn: string,
  t: PupilTimeline,
  settings: PatternSettings,
  period: Period,
): NearThresholdFinding | null {
  const threshold = settings.penaltyNoticeSessions;
  const counts = rollingWindowCounts(t, settings.penaltyNoticeCodes, settings.penaltyNoticeWeeks);
  const kept = qualifyingEpisodes(t, settings, period, counts.windowSessions, counts.peak);
  const splits = splitEpisodes(t, settings, period, counts.windowSessions);
  if (kept.length === 0 && splits.length === 0) return null;
  // Separate episodes share no session.
  const separate: EpisodeSlots[] = [];
  const used = new Set<number>();
  for (const e of kept) {
    if (e.slots.some((s) => used.has(s))) continue;
    separate.push(e);
    for (const s of e.slots) used.add(s);
  }
  const reasons: NearThresholdReason[] = [];
  if (separate.length >= 2 && separate.length >= settings.nearThreshold.minEpisodes) reasons.push('repeated');
  else if (separate.length >= settings.nearThreshold.minEpisodes) reasons.push('peaked_under');
  const flaggedKept = reasons.length > 0 ? separate : [];
  const toppedUp: EpisodeSlots[] = [];
  for (const e of splits) {
    const same = flaggedKept.find((k) => k.slots.some((s) => e.slots.includes(s)));
    if (same) {
      same.illness = e.illness;
      toppedUp.push(same);
    } else if (!toppedUp.some((k) => k.slots.some((s) => e.slots.includes(s)))) {
      toppedUp.push(e);
    }
  }
  if (toppedUp.length > 0) reasons.push('illness_tops_up');
  if (reasons.length === 0) return null;
  for (const e of flaggedKept) if (!toppedUp.includes(e)) e.illness = [];
  const all = [...new Set([...flaggedKept, ...toppedUp])].sort((a, b) => a.slots[0] - b.slots[0]);

  const episodes = all.map((e) => toEpisode(t, e));
  const sessions = episodes
    .flatMap((e) => [...e.sessions, ...e.contiguousIllness])
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const urns = [...new Set(sessions.map((s) => s.urn))];
  const weeksText = (e: NearThresholdEpisode) =>
    `the week of ${spokenDate(e.firstWeek)} to the week of ${spokenDate(e.lastWeek)}`;
  let statistic: NearThresholdFinding['statistic'];
  let observed: number;
  let explanation: string;
  const W = settings.penaltyNoticeWeeks;
  if (reasons[0] === 'repeated' || reasons[0] === 'peaked_under') {
    observed = separate.length;
    statistic = {
      name: `separate windows of ${W} school weeks peaking just under the threshold (${threshold - settings.nearThreshold.margin}–${threshold - 1} sessions)`,
      value: separate.length,
      threshold: settings.nearThreshold.minEpisodes,
      flaggedWhen: 'at_least',
    };
    const keptEpisodes = flaggedKept.map((e) => toEpisode(t, e));
    const counts = listOf(keptEpisodes.map((e) => String(e.unauthorisedSessions)));
    explanation =
      (keptEpisodes.length === 1
        ? `This pupil's unauthorised absence reached ${counts} sessions in the ${plural(keptEpisodes[0].schoolWeeks, 'school week')} from ${weeksText(keptEpisodes[0])}, ` +
          `just under the penalty-notice threshold of ${threshold}`
        : `This pupil's unauthorised absence reached ${counts} sessions in ${keptEpisodes.length} separate ${W}-school-week periods ` +
          `(${listOf(keptEpisodes.map(weeksText))}), each time just under the penalty-notice threshold of ${threshold}`) +
      (toppedUp.length > 0
        ? `, and the illness sessions immediately around the unauthorised days would take ${toppedUp.length === 1 ? 'one of them' : `${toppedUp.length} of them`} to ${Math.max(...toppedUp.map((e) => e.count + e.illness.length))}.`
        : '.');
  } else {
    const e = toppedUp.reduce((a, b) => (b.count + b.illness.length > a.count + a.illness.length ? b : a));
    const ep = toEpisode(t, e);
    observed = e.count + e.illness.length;
    statistic = {
      name: `unauthorised sessions in the ${W}-school-week window plus the illness sessions immediately before or after them`,
      value: observed,
      threshold,
      flaggedWhen: 'at_least',
    };
    explanation =
      `In the ${plural(ep.schoolWeeks, 'school week')} from ${weeksText(ep)} this pupil had ${plural(e.count, 'unauthorised session')}, under the penalty-notice ` +
      `threshold of ${threshold}, including ${plural(ep.longestRun, 'session')} of unauthorised holiday in a row, and the ${plural(e.illness.length, 'illness session')} ` +
      `immediately before or after those days would take it to ${observed}.`;
  }
  return {
    type: 'near_threshold_unauthorised',
    upn,
    urn: sessions[sessions.length - 1]?.urn ?? t.urns[0],
    urns,
    from: sessions[0]?.date ?? period.from,
    to: sessions[sessions.length - 1]?.date ?? period.to,
    observed,
    expected: null,
    statistic,
    explanation,
    codes: [...settings.penaltyNoticeCodes],
    threshold,
    windowWeeks: W,
    reasons,
    episodes,
  };
}
