/**
 * The sample daily return `npm start` writes beside its data, so the printed curl command works
 * as pasted: one school's register for the latest weekday, with a realistic spread of codes.
 */
import { upnCheckLetter } from '../shared/domain/upn.js';
import { addDays, isWeekend, todayInEngland } from '../shared/domain/dates.js';

const FORENAMES = ['Amelia', 'Oliver', 'Isla', 'George', 'Ava', 'Noah', 'Mia', 'Leo', 'Ivy', 'Arthur', 'Freya', 'Muhammad', 'Lily', 'Harry', 'Sophia'];
const SURNAMES = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Patel', 'Khan', 'Evans', 'Thomas'];
/** AM/PM pairs: mostly present, with late, illness, medical and one unauthorised absence. */
const MARKS: Array<[string, string]> = [['/', '\\'], ['/', '\\'], ['/', '\\'], ['L', '\\'], ['I', 'I'], ['/', '\\'], ['M', '\\'], ['/', '\\'], ['N', 'N'], ['/', '\\']];

export function latestWeekday(today = todayInEngland()): string {
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
    lines.push([urn, upn, date, am, pm, FORENAMES[i % FORENAMES.length], SURNAMES[(i * 7) % SURNAMES.length], String(1 + (i % 6)), i % 4 === 0 ? 'Y' : 'N', i % 9 === 0 ? 'K' : 'N'].join(','));
  }
  return `${lines.join('\n')}\n`;
}
