/** Building daily-return CSVs and valid UPNs for tests. */
import { upnCheckLetter } from '../../shared/domain/upn.js';

/** A valid UPN for LA `la` (3 digits), establishment `estab` (4 digits), serial n. */
export function upnFor(n: number, la = '999', estab = '2001', year = '20'): string {
  const body = `${la}${estab}${year}${String(n).padStart(3, '0')}`;
  return `${upnCheckLetter(body)}${body}`;
}

export interface ReturnRowInput {
  urn: string;
  upn: string;
  date: string;
  am: string;
  pm: string;
  [column: string]: string;
}

/** A daily return CSV with the given rows; columns are the union of the rows' keys, required first. */
export function returnCsv(rows: ReturnRowInput[]): string {
  const required = ['urn', 'upn', 'date', 'am', 'pm'];
  const extra = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) => !required.includes(c));
  const columns = [...required, ...extra];
  const cell = (v: string | undefined) =>
    v === undefined ? '' : /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

/** Weekdays from `from` to `to` inclusive (ISO dates). */
export function weekdays(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = new Date(`${from}T00:00:00Z`); d <= new Date(`${to}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    const wd = d.getUTCDay();
    if (wd !== 0 && wd !== 6) out.push(d.toISOString().slice(0, 10));
  }
  return out;
}
