/**
 * Recompute pupils' combined figures across all their schools and store them with an optimistic
 * version check: two schools' ingests touching the same (dual-registered or moving) pupil at once
 * can never leave a summary that misses the other's marks — the loser re-reads and recomputes.
 */
import type { LaSettings } from '../../shared/config.js';
import type { SchoolRegister } from '../../shared/domain/register.js';
import type { Enrolment } from '../../shared/domain/pupil-summary.js';
import { pupilRow, type PupilRow } from '../../shared/domain/school-view.js';
import type { CareIndex } from '../../shared/store/care.js';
import { enrolmentKeyOf, getSummaries, putSummaryIfUnchanged, type PupilSummaryRecord } from '../../shared/store/pupils.js';
import { getSessionDays } from '../../shared/store/schools.js';
import { inParallel } from '../../shared/store/table.js';
import { summarisePupil } from '../../shared/domain/pupil-status.js';

export interface RefreshInput {
  register: SchoolRegister;
  upns: string[];
  care: CareIndex;
  settings: LaSettings;
  today: string;
}

const MAX_ATTEMPTS = 8;

export async function refreshPupilSummaries(input: RefreshInput): Promise<Map<string, PupilRow>> {
  const { register } = input;
  const rows = new Map<string, PupilRow>();
  let pending = input.upns;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= MAX_ATTEMPTS) throw new Error(`pupil summaries kept changing under us after ${MAX_ATTEMPTS} attempts`);
    const current = await getSummaries(pending);
    const ownKey = enrolmentKeyOf(register);
    // The pupil's other enrolments (other schools, other years) come with the pupil record.
    const pairs = new Map<string, { urn: string; academicYear: number }>();
    pairs.set(ownKey, { urn: register.urn, academicYear: register.academicYear });
    for (const upn of pending) {
      for (const e of current.get(upn)?.enrolments ?? []) pairs.set(enrolmentKeyOf(e), { urn: e.urn, academicYear: e.academicYear });
    }
    const sessionDays = await getSessionDays([...pairs.values()]);

    const conflicts: string[] = [];
    await inParallel(pending, 16, async (upn) => {
        const held = current.get(upn);
        const own = register.pupils.get(upn);
        if (!own) return;
        const enrolments: Enrolment[] = [
          { ...own, urn: register.urn, academicYear: register.academicYear },
          ...(held?.enrolments ?? []).filter((e) => enrolmentKeyOf(e) !== ownKey),
        ];
        const yearSummary = summarisePupil({
          upn,
          academicYear: register.academicYear,
          enrolments,
          care: input.care.get(upn) ?? [],
          sessionDays,
          settings: input.settings,
          today: input.today,
        });
        const version = (held?.version ?? 0) + 1;
        const record: PupilSummaryRecord = {
          upn,
          version,
          computedAt: new Date().toISOString(),
          enrolmentKeys: enrolments.map(enrolmentKeyOf).sort(),
          enrolments,
          years: { ...(held?.years ?? {}), [String(register.academicYear)]: yearSummary },
        };
        if (await putSummaryIfUnchanged(record, held?.version ?? 0)) rows.set(upn, pupilRow(yearSummary, version));
        else conflicts.push(upn);
    });
    pending = conflicts;
  }
  return rows;
}
