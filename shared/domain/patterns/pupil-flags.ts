/**
 * A run's findings as flags on the pupil view (docs/design.md §4 flag types `holiday_adjacent_absence`,
 * `near_threshold_unauthorised`, `family_pattern`), each with `since` (the first date in its evidence)
 * and `detail` (the evidence).
 *
 * A family flag on one child's view says only that a household pattern exists and gives this child's
 * own evidence (its school, its test, its sessions): never the household key, the other children's
 * schools, UPNs or marks, nor the dates they share (issue 15: the pupil view and a referral's
 * evidence are read by the child's school and the Virtual School, which must not learn about a
 * sibling). Officers read the whole finding, every child named, from GET /v1/patterns.
 */
import type { FamilyFinding, PatternFinding } from './index.js';
import type { PupilFlag } from '../pupil-summary.js';

function earliest(dates: readonly string[], fallback: string): string {
  let best: string | undefined;
  for (const d of dates) if (best === undefined || d < best) best = d;
  return best ?? fallback;
}

function familyFlags(f: FamilyFinding): Array<[string, PupilFlag]> {
  return f.children.map((child) => {
    const dates = child.sessions.map((x) => x.date).sort();
    return [
      child.upn,
      {
        type: 'family_pattern',
        since: earliest(dates, f.from),
        detail: {
          householdPattern: true,
          from: dates[0] ?? f.from,
          to: dates[dates.length - 1] ?? f.to,
          explanation:
            "This child's absences next to school breaks coincide with those of another child in the same household.",
          child: {
            urn: child.urn,
            observed: child.observed,
            expected: child.expected,
            pValue: child.pValue,
            sessions: child.sessions,
            ...(child.registersFrom ? { registersFrom: child.registersFrom } : {}),
          },
        },
      },
    ];
  });
}

/**
 * A family flag as a reader of the pupil may see it, whatever run stored it: a flag stored before
 * flags were narrowed (it names the household, the shared dates and the number of children) is cut
 * down to the child's own evidence. Other flags are returned as they are.
 */
export function ownEvidenceOnly(flag: PupilFlag): PupilFlag {
  if (flag.type !== 'family_pattern' || flag.detail.householdPattern === true) return flag;
  const child = (flag.detail.child ?? {}) as {
    urn?: string;
    observed?: number;
    expected?: number;
    pValue?: number;
    sessions?: Array<{ date: string }>;
  };
  const dates = (child.sessions ?? []).map((x) => x.date).sort();
  return {
    type: 'family_pattern',
    since: flag.since,
    detail: {
      householdPattern: true,
      from: dates[0] ?? flag.since,
      to: dates[dates.length - 1] ?? flag.since,
      explanation:
        "This child's absences next to school breaks coincide with those of another child in the same household.",
      child: {
        urn: child.urn,
        observed: child.observed,
        expected: child.expected,
        pValue: child.pValue,
        sessions: child.sessions ?? [],
      },
    },
  };
}

/** Each flagged pupil's pattern flags, in the order of the findings. School findings flag no pupil. */
export function pupilFlagsOf(findings: readonly PatternFinding[]): Map<string, PupilFlag[]> {
  const out = new Map<string, PupilFlag[]>();
  const add = (upn: string, flag: PupilFlag) => {
    const list = out.get(upn);
    if (list) list.push(flag);
    else out.set(upn, [flag]);
  };
  for (const f of findings) {
    if (f.type === 'holiday_adjacent_absence') {
      const { type, upn, ...detail } = f;
      add(upn, {
        type,
        since: earliest(
          f.breaks.flatMap((b) => b.sessions.map((s) => s.date)),
          f.from,
        ),
        detail,
      });
    } else if (f.type === 'near_threshold_unauthorised') {
      const { type, upn, ...detail } = f;
      add(upn, {
        type,
        since: earliest(
          f.episodes.flatMap((e) => e.sessions.map((s) => s.date)),
          f.from,
        ),
        detail,
      });
    } else if (f.type === 'family_pattern') {
      for (const [upn, flag] of familyFlags(f)) add(upn, flag);
    }
  }
  return out;
}
