/**
 * A run's findings as flags on the pupil view (DESIGN §4 flag types `holiday_adjacent_absence`,
 * `near_threshold_unauthorised`, `family_pattern`), each with `since` (the first date in its evidence)
 * and `detail` (the evidence).
 *
 * A family flag on one child's view carries the household's shared dates and breaks, the statistic
 * and this child's own sessions, but not the other children's UPNs or marks: the pupil view is read
 * by the child's school, which must not see a sibling at another school. Officers read the whole
 * finding, every child named, from GET /v1/patterns.
 */
import type { FamilyFinding, PatternFinding } from './index.js';
import type { PupilFlag } from '../pupil-summary.js';

function earliest(dates: readonly string[], fallback: string): string {
  let best: string | undefined;
  for (const d of dates) if (best === undefined || d < best) best = d;
  return best ?? fallback;
}

function familyFlags(f: FamilyFinding): Array<[string, PupilFlag]> {
  const { type: _type, children, ...shared } = f;
  return children.map((child) => [
    child.upn,
    {
      type: 'family_pattern',
      since: earliest(child.sessions.map((s) => s.date), f.from),
      detail: { ...shared, children: children.length, child: { urn: child.urn, observed: child.observed, expected: child.expected, pValue: child.pValue, sessions: child.sessions } },
    },
  ]);
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
      add(upn, { type, since: earliest(f.breaks.flatMap((b) => b.sessions.map((s) => s.date)), f.from), detail });
    } else if (f.type === 'near_threshold_unauthorised') {
      const { type, upn, ...detail } = f;
      add(upn, { type, since: earliest(f.episodes.flatMap((e) => e.sessions.map((s) => s.date)), f.from), detail });
    } else if (f.type === 'family_pattern') {
      for (const [upn, flag] of familyFlags(f)) add(upn, flag);
    }
  }
  return out;
}
