/**
 * Published comparators for the LA's own figures: the DfE's national, regional and every LA's
 * year-to-date rates by phase (shared/reference/dfe-attendance.json, see its SOURCE file), and
 * national figures by pupil characteristic. Rates are percentages as the DfE publishes them.
 */
import published from '../reference/dfe-attendance.json' with { type: 'json' };

export const REFERENCE_PHASES = ['total', 'primary', 'secondary', 'special'] as const;
export type ReferencePhase = (typeof REFERENCE_PHASES)[number];

export interface PublishedRow {
  level: 'national' | 'regional' | 'la';
  code: string;
  laCode: string | null;
  name: string;
  regionCode: string | null;
  regionName: string | null;
  phase: string;
  schools: number | null;
  enrolments: number | null;
  attendanceRate: number | null;
  absenceRate: number | null;
  authorisedAbsenceRate: number | null;
  unauthorisedAbsenceRate: number | null;
  persistentAbsenceRate: number | null;
}

const PUBLISHED_SOURCE = {
  title: 'Pupil attendance in schools, 2025/26 academic year to date (DfE official statistics)',
  publisher: 'Department for Education',
  period: '2025/26 year to date',
  retrieved: '2026-07-23',
  url: 'https://explore-education-statistics.service.gov.uk/find-statistics/pupil-attendance-in-schools',
  licence: 'Open Government Licence v3.0',
} as const;

export interface CharacteristicFigure {
  /** The LA cohort it compares with (shared/domain/cohorts.ts). */
  cohort: string;
  label: string;
  absenceRate: number | null;
  persistentAbsenceRate: number | null;
  severeAbsenceRate: number | null;
  period: string;
  source: string;
}

/** National figures by characteristic (docs/design.md, Sources: DFE-METH). */
export const CHARACTERISTICS: readonly CharacteristicFigure[] = [
  {
    cohort: 'fsm',
    label: 'FSM eligible',
    absenceRate: 10.0,
    persistentAbsenceRate: 31.7,
    severeAbsenceRate: null,
    period: 'Autumn 2024/25',
    source: 'DfE, Pupil attendance in schools, 2025 week 4 (daily data)',
  },
  {
    cohort: 'non_fsm',
    label: 'Not FSM eligible',
    absenceRate: 5.2,
    persistentAbsenceRate: 14.4,
    severeAbsenceRate: null,
    period: 'Autumn 2024/25',
    source: 'DfE, Pupil attendance in schools, 2025 week 4 (daily data)',
  },
  {
    cohort: 'sen_ehcp',
    label: 'EHC plan',
    absenceRate: 13.1,
    persistentAbsenceRate: 35.1,
    severeAbsenceRate: null,
    period: 'Autumn 2024/25',
    source: 'DfE, Pupil attendance in schools, 2025 week 4 (daily data)',
  },
  {
    cohort: 'sen_support',
    label: 'SEN support',
    absenceRate: 10.1,
    persistentAbsenceRate: 29.0,
    severeAbsenceRate: null,
    period: 'Autumn 2024/25',
    source: 'DfE, Pupil attendance in schools, 2025 week 4 (daily data)',
  },
  {
    cohort: 'sen_none',
    label: 'No SEN',
    absenceRate: 5.8,
    persistentAbsenceRate: 17.0,
    severeAbsenceRate: null,
    period: 'Autumn 2024/25',
    source: 'DfE, Pupil attendance in schools, 2025 week 4 (daily data)',
  },
  {
    cohort: 'cin',
    label: 'Children in need (excluding CPP and CLA)',
    absenceRate: 17.6,
    persistentAbsenceRate: 48.8,
    severeAbsenceRate: 10.4,
    period: '2022/23',
    source: 'DfE, Outcomes for children in need, 2022/23 (CINO at 31 March, total)',
  },
  {
    cohort: 'cpp',
    label: 'Child protection plan',
    absenceRate: null,
    persistentAbsenceRate: null,
    severeAbsenceRate: 14.8,
    period: '2022/23',
    source: 'DfE, Outcomes for children in need, 2022/23, as reported by Community Care, 18 April 2024',
  },
];

const ROWS = (published as { rows: PublishedRow[] }).rows;

export interface Reference {
  source: typeof PUBLISHED_SOURCE;
  phase: ReferencePhase;
  national: PublishedRow | null;
  /** The region asked for, or the LA's own region when its code is in the published data. */
  region: PublishedRow | null;
  /** The LA itself as published (absent for an LA the DfE does not list, such as the synthetic 999). */
  la: PublishedRow | null;
  /** Every LA in the region, lowest absence first (LAs with suppressed figures last). */
  regionLas: PublishedRow[];
  regions: Array<{ code: string; name: string }>;
  characteristics: readonly CharacteristicFigure[];
}

export function referenceFor(laCode: string, phase: ReferencePhase, regionCode?: string): Reference {
  const inPhase = ROWS.filter((r) => r.phase === phase);
  const la = inPhase.find((r) => r.level === 'la' && r.laCode === laCode) ?? null;
  const region = inPhase.find((r) => r.level === 'regional' && r.code === (regionCode ?? la?.regionCode)) ?? null;
  const regionLas = region
    ? inPhase
        .filter((r) => r.level === 'la' && r.regionCode === region.code)
        .sort((a, b) => (a.absenceRate ?? Infinity) - (b.absenceRate ?? Infinity) || a.name.localeCompare(b.name))
    : [];
  return {
    source: PUBLISHED_SOURCE,
    phase,
    national: inPhase.find((r) => r.level === 'national') ?? null,
    region,
    la,
    regionLas,
    regions: inPhase
      .filter((r) => r.level === 'regional')
      .map((r) => ({ code: r.code, name: r.name }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    characteristics: CHARACTERISTICS,
  };
}
