/**
 * Item 2a: one 2,000-pupil school's daily return on the embedded engines. The school first back-fills
 * its year so far (one file), then sends single days; for each, the time from POST to the return's
 * final status and the return record's received → processed interval (the receive and ingest
 * handlers' time, the queue being idle). It runs in academic year 2024/25 so it never touches the
 * bench LA's 2025/26 figures.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeUpn } from '../shared/domain/upn.js';
import { uploadAll } from '../local/uploader.js';
import { median, round } from './measure.js';

const URN = '990001';
const CODES = ['/', '/', '/', '/', '/', '/', '/', '/', '/', '\\', 'L', 'I', 'I', 'M', 'O', 'C', 'G', 'U', 'N', 'B'];
const YEAR_GROUPS = ['7', '8', '9', '10', '11'];
const COLUMNS = 'urn,upn,date,am,pm,forename,surname,dob,sex,year_group,fsm,sen';

export interface SchoolDayFigures {
  pupils: number;
  backfillDays: number;
  backfillRows: number;
  backfillSeconds: number;
  days: Array<{ date: string; wallMs: number; receivedToProcessedMs: number; status: string }>;
  medianWallMs: number;
  medianReceivedToProcessedMs: number;
}

/** Weekdays from 2 September 2024 (term dates do not matter here: a day is whatever the school marks). */
function schoolDays(count: number): string[] {
  const out: string[] = [];
  for (let d = new Date('2024-09-02T00:00:00Z'); out.length < count; d.setUTCDate(d.getUTCDate() + 1)) {
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

function rowsFor(pupils: number, dates: readonly string[]): string {
  const lines = [COLUMNS];
  for (const date of dates) {
    const day = Number(date.slice(8, 10)) + Number(date.slice(5, 7)) * 31;
    for (let p = 0; p < pupils; p++) {
      const yg = YEAR_GROUPS[p % 5];
      const upn = upnOf(p);
      // A cheap deterministic spread of codes: most present, some absent.
      const am = CODES[(p * 7 + day * 13) % CODES.length];
      const pm = CODES[(p * 11 + day * 5) % CODES.length];
      const dob = `${2013 - (p % 5)}-${String((p % 12) + 1).padStart(2, '0')}-${String((p % 28) + 1).padStart(2, '0')}`;
      lines.push(
        `${URN},${upn},${date},${am},${pm},Pupil,N${p},${dob},${p % 2 ? 'F' : 'M'},${yg},${p % 4 === 0 ? 'Y' : 'N'},${p % 7 === 0 ? 'K' : 'N'}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A valid UPN per pupil: LA 999, establishment 9001, then five digits of the pupil number. */
function upnOf(p: number): string {
  return makeUpn(`9999001${String(p).padStart(5, '0')}`);
}

export const SCHOOL_DAY_URN = URN;

export async function schoolDay(
  url: string,
  token: string,
  options: { pupils: number; backfillDays: number; days: number; workDir: string },
): Promise<SchoolDayFigures> {
  const all = schoolDays(options.backfillDays + options.days);
  const backfillDates = all.slice(0, options.backfillDays);
  const auth = { authorization: `Bearer ${token}` };
  const send = async (csv: string) => {
    const body = Buffer.from(csv);
    const started = performance.now();
    const res = await fetch(`${url}/v1/returns`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/csv' },
      body,
    });
    const posted = (await res.json()) as { returnId?: string; detail?: string };
    if (res.status !== 202 || !posted.returnId)
      throw new Error(`bench: the school's return was refused: HTTP ${res.status} ${posted.detail ?? ''}`);
    for (;;) {
      const s = await fetch(`${url}/v1/returns/${posted.returnId}`, { headers: auth });
      const r = (await s.json()) as {
        status: string;
        receivedAt: string;
        processedAt?: string;
        counts?: { rejected: number };
      };
      if (['accepted', 'accepted_with_errors', 'rejected'].includes(r.status)) {
        return {
          wallMs: performance.now() - started,
          receivedToProcessedMs: r.processedAt ? Date.parse(r.processedAt) - Date.parse(r.receivedAt) : Number.NaN,
          status: r.status,
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const csvFor = (dates: readonly string[]) => rowsFor(options.pupils, dates);
  // The back-fill may exceed the direct-upload limit: the uploader takes the presigned path then.
  const backfillPath = join(options.workDir, `school-${URN}-backfill.csv`);
  writeFileSync(backfillPath, csvFor(backfillDates));
  const started = performance.now();
  const backfill = await uploadAll([{ path: backfillPath, lane: URN, urn: URN, token }], {
    url,
    waitForOutcome: 'each',
  });
  const backfillSeconds = (performance.now() - started) / 1000;
  if (backfill.accepted !== 1)
    throw new Error(
      `bench: the 2,000-pupil back-fill ended ${backfill.outcomes[0]?.status}: ${backfill.outcomes[0]?.detail ?? ''}`,
    );
  const days: SchoolDayFigures['days'] = [];
  for (const date of all.slice(options.backfillDays)) {
    const r = await send(csvFor([date]));
    days.push({
      date,
      wallMs: round(r.wallMs),
      receivedToProcessedMs: round(r.receivedToProcessedMs),
      status: r.status,
    });
  }
  return {
    pupils: options.pupils,
    backfillDays: options.backfillDays,
    backfillRows: options.pupils * options.backfillDays,
    backfillSeconds: round(backfillSeconds),
    days,
    medianWallMs: round(median(days.map((d) => d.wallMs))),
    medianReceivedToProcessedMs: round(median(days.map((d) => d.receivedToProcessedMs))),
  };
}
