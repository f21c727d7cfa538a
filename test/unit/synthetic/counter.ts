/**
 * A deliberately simple, independent counter over a generated LA's CSV files (no production
 * parsing or aggregation code): it splits lines on commas, applies the correction files over the
 * daily ones (the later row for a pupil, school and date wins), and totals sessions the DfE way
 * (docs/design.md §2.2) per enrolment and per cohort-enrolment.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const PRESENT = new Set(['/', '\\', 'L']);
const APPROVED = new Set(['K', 'V', 'P', 'W', 'B']);
const AUTHORISED = new Set(['C', 'C1', 'C2', 'E', 'I', 'J1', 'M', 'R', 'S', 'T']);
const UNAUTHORISED = new Set(['G', 'N', 'O', 'U']);

export interface Tally {
  possible: number;
  absent: number;
}

export interface Group {
  possible: number;
  absent: number;
  enrolments: number;
  persistent: number;
  severe: number;
  codes: Record<string, number>;
}

export interface LaCount {
  phaseOf: Map<string, string>;
  /**
   * Group name → figures. Groups: all, dfe_total (primary, secondary and special: the DfE's
   * "Total" leaves out alternative provision), phase:<p>, fsm, non_fsm, sen_E, sen_K, sen_N, and
   * the date-effective cin, cpp, cla and cin_or_cpp.
   */
  groups: Map<string, Group>;
  /** urn|upn|date → [am, pm] final marks (every row, after corrections), with `keepMarks`. */
  marks: Map<string, [string, string]>;
  /** upn → the pupil's rows in date order (then URN), with `keepMarks`. */
  byPupil: Map<string, { date: string; urn: string; am: string; pm: string }[]>;
  /** upn → the date of birth the returns state (with `keepMarks`). */
  dobOf: Map<string, string>;
  /** urn → dates on which the school's returns hold a mark other than `#` (its school sessions). */
  sessionDates: Map<string, Set<string>>;
  /** date → possible and absent sessions over primary, secondary and special schools. */
  byDate: Map<string, Tally>;
}

interface Manifest {
  files: { path: string; kind: string }[];
}

function emptyGroup(): Group {
  return { possible: 0, absent: 0, enrolments: 0, persistent: 0, severe: 0, codes: {} };
}

export function countLa(dir: string, options: { keepMarks?: boolean } = {}): LaCount {
  const phaseOf = new Map<string, string>();
  const registry = readFileSync(join(dir, 'schools.csv'), 'utf8').trim().split(/\r?\n/);
  const head = splitQuoted(registry[0]);
  const urnCol = head.indexOf('URN');
  const typeCol = head.indexOf('TypeOfEstablishment (name)');
  const phaseCol = head.indexOf('PhaseOfEducation (name)');
  for (const line of registry.slice(1)) {
    const f = splitQuoted(line);
    const type = f[typeCol].toLowerCase();
    phaseOf.set(
      f[urnCol],
      type.includes('special') ? 'special' : type.includes('referral') ? 'pru' : f[phaseCol].toLowerCase(),
    );
  }

  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  // Final marks of corrected rows.
  const corrected = new Map<string, [string, string]>();
  for (const f of manifest.files) {
    if (f.kind !== 'correction') continue;
    for (const line of readFileSync(join(dir, f.path), 'utf8').split('\n').slice(1)) {
      if (line === '') continue;
      const c = line.split(',');
      corrected.set(`${c[0]}|${c[1]}|${c[2]}`, [c[3], c[4]]);
    }
  }

  // Per enrolment (and per cohort-enrolment): possible and absent sessions, codes.
  const tallies = new Map<
    string,
    { group: string[]; possible: number; absent: number; codes: Record<string, number> }
  >();
  const marks = new Map<string, [string, string]>();
  const byPupil = new Map<string, { date: string; urn: string; am: string; pm: string }[]>();
  const dobOf = new Map<string, string>();
  const sessionDates = new Map<string, Set<string>>();
  const byDate = new Map<string, Tally>();
  const add = (key: string, groups: string[], code: string): void => {
    let t = tallies.get(key);
    if (!t) tallies.set(key, (t = { group: groups, possible: 0, absent: 0, codes: {} }));
    const possible = PRESENT.has(code) || APPROVED.has(code) || AUTHORISED.has(code) || UNAUTHORISED.has(code);
    if (!possible) return;
    t.possible++;
    if (AUTHORISED.has(code) || UNAUTHORISED.has(code)) t.absent++;
    t.codes[code] = (t.codes[code] ?? 0) + 1;
  };
  for (const f of manifest.files) {
    if (f.kind === 'correction') continue;
    const lines = readFileSync(join(dir, f.path), 'utf8').split('\n');
    const cols = lines[0].split(',');
    const at = (name: string): number => cols.indexOf(name);
    const [iUrn, iUpn, iDate, iAm, iPm, iFsm, iSen, iCin, iCpp, iCla, iDob] = [
      'urn',
      'upn',
      'date',
      'am',
      'pm',
      'fsm',
      'sen',
      'cin',
      'cpp',
      'cla',
      'dob',
    ].map(at);
    for (let n = 1; n < lines.length; n++) {
      const line = lines[n];
      if (line === '') continue;
      const c = line.split(',');
      const key = `${c[iUrn]}|${c[iUpn]}|${c[iDate]}`;
      const final = corrected.get(key) ?? [c[iAm], c[iPm]];
      if (options.keepMarks) {
        marks.set(key, final);
        let list = byPupil.get(c[iUpn]);
        if (!list) byPupil.set(c[iUpn], (list = []));
        list.push({ date: c[iDate], urn: c[iUrn], am: final[0], pm: final[1] });
        if (iDob >= 0 && c[iDob]) dobOf.set(c[iUpn], c[iDob]);
      }
      if (final[0] !== '#' || final[1] !== '#') {
        let dates = sessionDates.get(c[iUrn]);
        if (!dates) sessionDates.set(c[iUrn], (dates = new Set()));
        dates.add(c[iDate]);
      }
      const enrolment = `${c[iUrn]}|${c[iUpn]}`;
      const phase = phaseOf.get(c[iUrn]) ?? 'unknown';
      const groups = ['all', `phase:${phase}`, c[iFsm] === 'Y' ? 'fsm' : 'non_fsm', `sen_${c[iSen]}`];
      if (phase !== 'pru') {
        groups.push('dfe_total');
        let day = byDate.get(c[iDate]);
        if (!day) byDate.set(c[iDate], (day = { possible: 0, absent: 0 }));
        for (const code of final) {
          if (PRESENT.has(code) || APPROVED.has(code)) day.possible++;
          else if (AUTHORISED.has(code) || UNAUTHORISED.has(code)) {
            day.possible++;
            day.absent++;
          }
        }
      }
      for (const code of final) add(enrolment, groups, code);
      // Date-effective cohorts: only the sessions on rows that state membership.
      for (const [col, name] of [
        [iCin, 'cin'],
        [iCpp, 'cpp'],
        [iCla, 'cla'],
      ] as const) {
        if (c[col] === 'Y') for (const code of final) add(`${enrolment}|${name}`, [name], code);
      }
      if (c[iCin] === 'Y' || c[iCpp] === 'Y')
        for (const code of final) add(`${enrolment}|cin_or_cpp`, ['cin_or_cpp'], code);
    }
  }

  const groups = new Map<string, Group>();
  for (const t of tallies.values()) {
    if (t.possible === 0) continue;
    for (const name of t.group) {
      let g = groups.get(name);
      if (!g) groups.set(name, (g = emptyGroup()));
      g.possible += t.possible;
      g.absent += t.absent;
      g.enrolments++;
      if (t.absent * 10 >= t.possible) g.persistent++;
      if (t.absent * 2 >= t.possible) g.severe++;
      for (const [code, n] of Object.entries(t.codes)) g.codes[code] = (g.codes[code] ?? 0) + n;
    }
  }
  for (const list of byPupil.values())
    list.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.urn < b.urn ? -1 : 1));
  return { phaseOf, groups, marks, byPupil, dobOf, sessionDates, byDate };
}

const NOT_POSSIBLE = new Set(['D', 'Q', 'X', 'Y1', 'Y2', 'Y3', 'Y4', 'Y5', 'Y6', 'Y7', 'Z', '#', '', '-']);
const PENALTY = new Set(['G', 'N', 'O', 'U']);

type Series = { date: string; urn: string; am: string; pm: string }[];

/** Longest run of consecutive possible sessions coded G/N/O/U; not-possible sessions neither break nor extend it. */
export function longestUnauthorisedRun(series: Series): number {
  let run = 0;
  let best = 0;
  for (const row of series) {
    for (const code of [row.am, row.pm]) {
      if (NOT_POSSIBLE.has(code)) continue;
      run = PENALTY.has(code) ? run + 1 : 0;
      best = Math.max(best, run);
    }
  }
  return best;
}

export function sessionsCoded(series: Series, codes: ReadonlySet<string>): number {
  let n = 0;
  for (const row of series) n += (codes.has(row.am) ? 1 : 0) + (codes.has(row.pm) ? 1 : 0);
  return n;
}

/** Monday of the week holding an ISO date. */
function monday(date: string): string {
  const t = Date.parse(`${date}T00:00:00Z`);
  const day = (new Date(t).getUTCDay() + 6) % 7;
  return new Date(t - day * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Highest count of sessions with `codes` in any 10 consecutive school weeks (weeks holding a
 * session at the pupil's schools).
 */
export function peakTenWeekWindow(
  series: Series,
  sessionDates: Map<string, Set<string>>,
  codes: ReadonlySet<string> = PENALTY,
  weeks = 10,
): number {
  const urns = new Set(series.map((r) => r.urn));
  const schoolWeeks = new Set<string>();
  for (const urn of urns) for (const d of sessionDates.get(urn) ?? []) schoolWeeks.add(monday(d));
  const ordered = [...schoolWeeks].sort();
  const counts = new Map<string, number>();
  for (const row of series) {
    const n = (codes.has(row.am) ? 1 : 0) + (codes.has(row.pm) ? 1 : 0);
    if (n > 0) counts.set(monday(row.date), (counts.get(monday(row.date)) ?? 0) + n);
  }
  let best = 0;
  for (let i = 0; i < ordered.length; i++) {
    let sum = 0;
    for (let j = i; j < Math.min(ordered.length, i + weeks); j++) sum += counts.get(ordered[j]) ?? 0;
    best = Math.max(best, sum);
  }
  return best;
}

export function percent(n: number, d: number): number {
  return d === 0 ? 0 : (100 * n) / d;
}

/** Headline figures of a group, percent. */
export function figures(g: Group): { absence: number; pa: number; sa: number } {
  return {
    absence: percent(g.absent, g.possible),
    pa: percent(g.persistent, g.enrolments),
    sa: percent(g.severe, g.enrolments),
  };
}

/** Fields of one CSV line with RFC 4180 quotes (school names may hold commas). */
function splitQuoted(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
