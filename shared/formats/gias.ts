/**
 * School registry from a GIAS extract (docs/design.md §6): the "edubasealldata" CSV from Get Information
 * about Schools. Real extracts have ~130 columns and are published in Windows-1252, so extra
 * columns are ignored and a file that is not valid UTF-8 is read as Windows-1252 (it holds no
 * personal data). Header names are matched case-insensitively after trimming.
 *
 * Phase comes from PhaseOfEducation AND TypeOfEstablishment: special schools and pupil referral
 * units / alternative provision have phase "Not applicable" in GIAS, and DfE statistics report
 * them apart from mainstream phases, so the type wins for those.
 */
import { csvFileError, excerpt, readCsv, type FileError, type RowError } from './csv.js';

export type SchoolPhase =
  'nursery' | 'primary' | 'middle' | 'secondary' | 'all_through' | 'special' | 'pru' | 'post16' | 'other';

export interface School {
  urn: string;
  /** Three-digit LA code, e.g. '373' (Sheffield). */
  laCode: string;
  /** Four-digit establishment number ('' when GIAS has none, e.g. some independent settings). */
  establishmentNumber: string;
  name: string;
  phase: SchoolPhase;
  /** TypeOfEstablishment (name) as GIAS states it. */
  type: string;
  /** EstablishmentStatus (name) as GIAS states it. */
  status: string;
  /** Open, or open but proposed to close. */
  open: boolean;
}

export interface GiasParse {
  schools: School[];
  errors: RowError[];
  /** Set when the whole file is rejected (then `schools` is empty). */
  fileError?: FileError;
}

export const GIAS_COLUMNS = {
  urn: 'URN',
  laCode: 'LA (code)',
  establishmentNumber: 'EstablishmentNumber',
  name: 'EstablishmentName',
  phase: 'PhaseOfEducation (name)',
  type: 'TypeOfEstablishment (name)',
  status: 'EstablishmentStatus (name)',
} as const;

type GiasField = keyof typeof GIAS_COLUMNS;

const SPECIAL_TYPES: ReadonlySet<string> = new Set([
  'community special school',
  'foundation special school',
  'non-maintained special school',
  'other independent special school',
  'academy special converter',
  'academy special sponsor led',
  'free schools special',
  'special post 16 institution',
]);

const PRU_TYPES: ReadonlySet<string> = new Set([
  'pupil referral unit',
  'academy alternative provision converter',
  'academy alternative provision sponsor led',
  'free schools alternative provision',
]);

const POST16_TYPES: ReadonlySet<string> = new Set([
  'academy 16-19 converter',
  'academy 16 to 19 sponsor led',
  'free schools 16 to 19',
  'sixth form centres',
  'further education',
  'academy secure 16 to 19',
]);

const OPEN_STATUSES: ReadonlySet<string> = new Set(['open', 'open, but proposed to close']);

/** Phase from GIAS phase and type names (case-insensitive). */
export function schoolPhase(phaseName: string, typeName: string): SchoolPhase {
  const type = typeName.trim().toLowerCase().replace(/\s+/g, ' ');
  // Type first: special schools and AP are reported apart whatever phase they state.
  if (SPECIAL_TYPES.has(type) || /\bspecial\b/.test(type)) return 'special';
  if (PRU_TYPES.has(type) || /pupil referral|alternative provision/.test(type)) return 'pru';
  const phase = phaseName
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, ' ');
  switch (phase) {
    case 'nursery':
      return 'nursery';
    case 'primary':
      return 'primary';
    case 'middle deemed primary':
    case 'middle deemed secondary':
      return 'middle';
    case 'secondary':
      return 'secondary';
    case 'all through':
      return 'all_through';
    case '16 plus':
      return 'post16';
  }
  if (type === 'la nursery school') return 'nursery';
  if (POST16_TYPES.has(type)) return 'post16';
  return 'other';
}

export function parseGiasCsv(input: Buffer): GiasParse {
  const csv = readCsv(input, { encoding: 'utf-8-or-windows-1252' });
  if (!csv.ok) return { schools: [], errors: [], fileError: csvFileError(csv.error) };

  const index = new Map<string, number>();
  csv.header.forEach((name, i) => {
    const key = name.trim().toLowerCase().replace(/\s+/g, ' ');
    if (!index.has(key)) index.set(key, i);
  });
  const col = {} as Record<GiasField, number>;
  const missing: string[] = [];
  for (const [field, name] of Object.entries(GIAS_COLUMNS) as [GiasField, string][]) {
    const i = index.get(name.toLowerCase());
    if (i === undefined) missing.push(name);
    else col[field] = i;
  }
  if (missing.length > 0) {
    return {
      schools: [],
      errors: [],
      fileError: {
        status: 422,
        code: 'missing_columns',
        title: 'Required columns missing',
        detail: `not a GIAS extract: the header lacks ${missing.map((m) => `'${m}'`).join(', ')}`,
        errors: missing.map((m) => ({
          line: csv.headerLine,
          field: m,
          code: 'missing_column',
          message: `required column '${m}' is missing`,
        })),
      },
    };
  }

  const schools: School[] = [];
  const errors: RowError[] = [];
  const seen = new Map<string, number>();
  for (const { line, fields } of csv.records) {
    if (fields.every((f) => f.trim() === '')) continue;
    const get = (f: GiasField): string => (fields[col[f]] ?? '').trim();
    const rowErrors: RowError[] = [];
    const urn = get('urn');
    if (!/^\d{6}$/.test(urn))
      rowErrors.push({
        line,
        field: GIAS_COLUMNS.urn,
        code: 'urn_format',
        message: `URN must be 6 digits, got ${excerpt(urn, 12)}`,
      });
    const laCode = get('laCode');
    if (!/^\d{3}$/.test(laCode))
      rowErrors.push({
        line,
        field: GIAS_COLUMNS.laCode,
        code: 'la_code_format',
        message: `LA code must be 3 digits, got ${excerpt(laCode, 12)}`,
      });
    const establishmentNumber = get('establishmentNumber');
    if (establishmentNumber !== '' && !/^\d{4}$/.test(establishmentNumber)) {
      rowErrors.push({
        line,
        field: GIAS_COLUMNS.establishmentNumber,
        code: 'establishment_number_format',
        message: `EstablishmentNumber must be 4 digits or empty, got ${excerpt(establishmentNumber, 12)}`,
      });
    }
    const name = get('name');
    if (name === '')
      rowErrors.push({ line, field: GIAS_COLUMNS.name, code: 'name_missing', message: 'EstablishmentName is empty' });
    else if (name.length > 200)
      rowErrors.push({
        line,
        field: GIAS_COLUMNS.name,
        code: 'name_too_long',
        message: `EstablishmentName is ${name.length} characters; at most 200 are accepted`,
      });
    const status = get('status');
    if (status === '')
      rowErrors.push({
        line,
        field: GIAS_COLUMNS.status,
        code: 'status_missing',
        message: 'EstablishmentStatus (name) is empty',
      });
    const earlier = seen.get(urn);
    if (rowErrors.length === 0 && earlier !== undefined) {
      rowErrors.push({
        line,
        field: GIAS_COLUMNS.urn,
        code: 'duplicate_urn',
        message: `URN ${urn} already appears on line ${earlier}; this row is ignored`,
      });
    }
    if (rowErrors.length > 0) {
      errors.push(...rowErrors);
      continue;
    }
    seen.set(urn, line);
    const type = get('type');
    schools.push({
      urn,
      laCode,
      establishmentNumber,
      name,
      phase: schoolPhase(get('phase'), type),
      type,
      status,
      open: OPEN_STATUSES.has(status.toLowerCase()),
    });
  }
  return { schools, errors };
}
