/**
 * Planting the LA's other duties in the synthetic LA (issue 20; docs/duties.md), on top of the
 * population's moves, leavers and joiners (population.ts) and the part-time timetables of the
 * background (behaviours.ts), which are already in the ground truth:
 *
 * - **late notifications**: a share of the joiners get an admission date 6–12 school days before the
 *   first return that lists them (the school admitted them and only listed them later);
 * - **deletions with a ground and destination**: every move's leaving row states the ground
 *   (`registered_at_another_school`) and the destination school's URN;
 * - **deletions to unknown**: half the leavers with nowhere to go state destination `UNKNOWN`;
 * - **a child who never arrives**: the other half name a school in the LA (same phase) that never
 *   lists them — when at least eleven school days remain in the range, else they too are `UNKNOWN`.
 *
 * Pure with respect to the files: it labels enrolments (admission dates, and a deletion map the row
 * writer reads) and returns the ground truth; the marks are untouched.
 */
import { isOfCompulsorySchoolAge } from '../../shared/domain/compulsory-school-age.js';
import type { Enrolment, Population } from './population.js';
import type { Random } from './random.js';
import type { Timetable } from './timetable.js';

export interface PlantedDeletion {
  upn: string;
  urn: string;
  leaving: string;
  ground: string;
  destination: string;
  /** What the service must say: a CME flag (`missing`), or the destination lists the child (`listed`). */
  expect: 'missing' | 'listed' | 'not_compulsory_school_age';
  plant: 'moved' | 'unknown_destination' | 'never_arrives';
}

export interface PlantedLateEntry {
  upn: string;
  urn: string;
  /** The admission date written on the rows. */
  admission: string;
  /** The first date the school's returns list the pupil. */
  firstListed: string;
  /** School days after the admission date to the first listing. */
  schoolDays: number;
}

export interface DutiesPlan {
  /** Enrolments whose leaving rows carry a ground and destination. */
  deletions: Map<Enrolment, { ground: string; destination: string }>;
  truth: { lateEntries: PlantedLateEntry[]; deletions: PlantedDeletion[] };
}

/** Share of joiners whose admission is notified late. */
const LATE_ENTRY_SHARE = 0.3;

export function planDuties(
  pop: Population,
  timetables: ReadonlyMap<string, Timetable>,
  o: { fromIdx: number; toIdx: number },
  random: Random,
): DutiesPlan {
  const deletions = new Map<Enrolment, { ground: string; destination: string }>();
  const truth: DutiesPlan['truth'] = { lateEntries: [], deletions: [] };
  const byUpn = new Map(pop.pupils.map((p) => [p.upn, p]));
  const timetableOf = (e: Enrolment) => timetables.get(e.school.spec.calendar) as Timetable;

  // Late notifications of new entries.
  for (const j of pop.joiners) {
    const p = byUpn.get(j.upn);
    const e = p?.enrolments.find((x) => x.school.spec.urn === j.urn && x.admission === j.admission);
    if (!p || !e || !random.chance(LATE_ENTRY_SHARE)) continue;
    const t = timetableOf(e);
    const before = t.schoolDaysIn(o.fromIdx, e.startIdx - 1);
    const k = 6 + random.int(7);
    // Keep the admission inside the range, after the school's first return (so it is a new entry).
    if (before.length < k + 5) continue;
    const admission = t.date(before[before.length - k]);
    truth.lateEntries.push({ upn: p.upn, urn: j.urn, admission, firstListed: e.admission, schoolDays: k });
    e.admission = admission;
  }

  // Deletions: moves state where the child went; leavers with nowhere to go, unknown or a school that never lists them.
  const inArea = pop.schools.filter((s) => !s.spec.outOfArea);
  let leaverIndex = 0;
  for (const m of pop.moves) {
    const p = byUpn.get(m.upn);
    const e = p?.enrolments.find((x) => x.school.spec.urn === m.from && x.leaving === m.leaving);
    if (!p || !e || p.outOfArea) continue;
    const compulsory = isOfCompulsorySchoolAge(p.dob, m.leaving) !== false;
    let destination: string;
    let plant: PlantedDeletion['plant'];
    if (m.to !== undefined) {
      destination = m.to;
      plant = 'moved';
    } else {
      const t = timetableOf(e);
      const remaining = t.schoolDaysIn(e.endIdx + 1, o.toIdx).length;
      const others = inArea.filter((s) => s !== e.school && s.spec.phase === e.school.spec.phase);
      if (leaverIndex++ % 2 === 1 && remaining >= 11 && others.length > 0) {
        destination = random.pick(others).spec.urn;
        plant = 'never_arrives';
      } else {
        destination = 'UNKNOWN';
        plant = 'unknown_destination';
      }
    }
    const ground = plant === 'unknown_destination' ? 'moved_away' : 'registered_at_another_school';
    deletions.set(e, { ground, destination });
    truth.deletions.push({
      upn: p.upn,
      urn: m.from,
      leaving: m.leaving,
      ground,
      destination: destination === 'UNKNOWN' ? 'unknown' : destination,
      plant,
      expect: !compulsory ? 'not_compulsory_school_age' : plant === 'moved' ? 'listed' : 'missing',
    });
  }
  return { deletions, truth };
}
