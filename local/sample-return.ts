/**
 * The sample daily return `npm start` writes beside its data, so the printed curl command works
 * as pasted: one school's register for the latest weekday, with a realistic spread of codes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { upnCheckLetter } from '../shared/domain/upn.js';
import { addDays, isWeekend, todayInEngland } from '../shared/domain/dates.js';

const FORENAMES = [
  'Amelia',
  'Oliver',
  'Isla',
  'George',
  'Ava',
  'Noah',
  'Mia',
  'Leo',
  'Ivy',
  'Arthur',
  'Freya',
  'Muhammad',
  'Lily',
  'Harry',
  'Sophia',
];
const SURNAMES = [
  'Smith',
  'Jones',
  'Taylor',
  'Brown',
  'Williams',
  'Wilson',
  'Johnson',
  'Davies',
  'Patel',
  'Khan',
  'Evans',
  'Thomas',
];
/** AM/PM pairs: mostly present, with late, illness, medical and one unauthorised absence. */
const MARKS: Array<[string, string]> = [
  ['/', '\\'],
  ['/', '\\'],
  ['/', '\\'],
  ['L', '\\'],
  ['I', 'I'],
  ['/', '\\'],
  ['M', '\\'],
  ['/', '\\'],
  ['N', 'N'],
  ['/', '\\'],
];

function latestWeekday(today = todayInEngland()): string {
  let d = today;
  while (isWeekend(d)) d = addDays(d, -1);
  return d;
}

export function sampleReturnCsv(urn: string, laCode: string, date = latestWeekday(), pupils = 30): string {
  const lines = ['urn,upn,date,am,pm,forename,surname,year_group,fsm,sen'];
  for (let i = 0; i < pupils; i++) {
    const body = `${laCode}${urn.slice(-4)}26${String(900 + i).padStart(3, '0')}`;
    const upn = `${upnCheckLetter(body)}${body}`;
    const [am, pm] = MARKS[i % MARKS.length];
    lines.push(
      [
        urn,
        upn,
        date,
        am,
        pm,
        FORENAMES[i % FORENAMES.length],
        SURNAMES[(i * 7) % SURNAMES.length],
        String(1 + (i % 6)),
        i % 4 === 0 ? 'Y' : 'N',
        i % 9 === 0 ? 'K' : 'N',
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The sample as the demo school's own register: its pupils (with their characteristics) from the
 * demo's latest daily file, dated the latest weekday, so the pasted curl adds a day for pupils the
 * LA already knows instead of enrolling strangers. Undefined when there is no demo to draw on (or the
 * latest weekday is not after the demo's last day); the caller then uses `sampleReturnCsv`.
 */
export function sampleReturnFromDemo(demoDir: string, urn: string, date = latestWeekday()): string | undefined {
  const manifestPath = join(demoDir, 'manifest.json');
  if (!existsSync(manifestPath)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    files?: Array<{ path: string; urn: string; role: string; kind: string; date?: string }>;
  };
  const last = (manifest.files ?? []).filter((f) => f.kind === 'daily' && f.role === 'school' && f.urn === urn).at(-1);
  if (!last?.date || last.date >= date) return undefined;
  const lines = readFileSync(join(demoDir, last.path), 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  // Plain generated rows only: a quoted field would need the real CSV parser.
  if (lines.length < 2 || lines.some((l) => l.includes('"'))) return undefined;
  const header = lines[0].split(',');
  const [iDate, iAm, iPm] = ['date', 'am', 'pm'].map((c) => header.indexOf(c));
  if (iDate < 0 || iAm < 0 || iPm < 0) return undefined;
  const rows = lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    const [am, pm] = MARKS[i % MARKS.length];
    cells[iDate] = date;
    cells[iAm] = am;
    cells[iPm] = pm;
    return cells.join(',');
  });
  return `${[lines[0], ...rows].join('\n')}\n`;
}
