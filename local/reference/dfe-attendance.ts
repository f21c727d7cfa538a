/**
 * Converts the DfE's published year-to-date attendance statistics (EES_ytd_data.csv from the DfE's
 * attendance-data-dashboard; ../shared/data/dfe-statistics/) into the reference file the API ships,
 * shared/reference/dfe-attendance.json: national, regional and every LA's published rates by phase.
 *
 *   npx tsx local/reference/dfe-attendance.ts ../shared/data/dfe-statistics/EES_ytd_data.csv
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line) continue;
    const cells: string[] = [];
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
        cells.push(cur);
        cur = '';
      } else cur += ch;
    }
    cells.push(cur);
    rows.push(cells);
  }
  return rows;
}

const round = (s: string) => (s === '' || Number.isNaN(Number(s)) ? null : Math.round(Number(s) * 1000) / 1000);

export function convert(csv: string) {
  const [header, ...rows] = parseCsv(csv);
  const col = (name: string) => header.indexOf(name);
  const at = (r: string[], name: string) => r[col(name)];
  const levels: Record<string, 'national' | 'regional' | 'la'> = {
    National: 'national',
    Regional: 'regional',
    'Local authority': 'la',
  };
  return rows
    .map((r) => ({
      level: levels[at(r, 'geographic_level')],
      code:
        at(r, 'geographic_level') === 'National'
          ? at(r, 'country_code')
          : at(r, 'geographic_level') === 'Regional'
            ? at(r, 'region_code')
            : at(r, 'new_la_code'),
      laCode: at(r, 'old_la_code') || null,
      name:
        at(r, 'geographic_level') === 'National'
          ? at(r, 'country_name')
          : at(r, 'geographic_level') === 'Regional'
            ? at(r, 'region_name')
            : at(r, 'la_name'),
      regionCode: at(r, 'region_code') || null,
      regionName: at(r, 'region_name') || null,
      phase: at(r, 'education_phase').toLowerCase(),
      schools: round(at(r, 'total_num_schools')),
      enrolments: round(at(r, 'total_enrolments')),
      attendanceRate: round(at(r, 'attendance_perc')),
      absenceRate: round(at(r, 'overall_absence_perc')),
      authorisedAbsenceRate: round(at(r, 'authorised_absence_perc')),
      unauthorisedAbsenceRate: round(at(r, 'unauthorised_absence_perc')),
      persistentAbsenceRate: round(at(r, 'pa_perc')),
    }))
    .filter((r) => r.level);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const src =
    process.argv[2] ??
    join(
      dirname(fileURLToPath(import.meta.url)),
      '..',
      '..',
      '..',
      'shared',
      'data',
      'dfe-statistics',
      'EES_ytd_data.csv',
    );
  const rows = convert(readFileSync(src, 'utf8'));
  const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'reference', 'dfe-attendance.json');
  writeFileSync(out, `${JSON.stringify({ rows }, null, 0).replace(/\},\{/g, '},\n{')}\n`);
  process.stdout.write(`${rows.length} rows → ${out}\n`);
}
