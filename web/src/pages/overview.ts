import { get, query, type Metrics, type MetricsRow } from '../api.js';
import { lineChart } from '../chart.js';
import { h, table } from '../dom.js';
import { cohortLabel, date, GAP_COHORTS, num, pct } from '../format.js';
import type { PageContext, PageResult } from '../main.js';
import { periodPicker } from './period.js';

/** The LA officer's overview: headline rates for the period, the weekly trend, the cohort gaps. */
export async function overviewPage(ctx: PageContext): Promise<PageResult> {
  const from = ctx.query.get('from') ?? undefined;
  const to = ctx.query.get('to') ?? undefined;
  const period = { from, to };
  const [headline, weeks, cohorts] = await Promise.all([
    get<Metrics>(`/v1/metrics${query(period)}`),
    get<Metrics>(`/v1/metrics${query({ ...period, groupBy: 'week' })}`),
    get<Metrics>(`/v1/metrics${query({ ...period, groupBy: 'cohort' })}`),
  ]);
  const all = headline.items[0];
  const byCohort = new Map(cohorts.items.map((r) => [r.key.cohort ?? 'all', r]));
  const weekRows = [...weeks.items].sort((a, b) => ((a.key.week ?? '') < (b.key.week ?? '') ? -1 : 1));

  const card = (label: string, value: string, sub: string) =>
    h('div', { class: 'govuk-grid-column-one-quarter app-card' },
      h('h2', { class: 'govuk-heading-s app-card__label' }, label),
      h('p', { class: 'govuk-heading-xl app-card__value' }, value),
      h('p', { class: 'govuk-body-s app-card__sub' }, sub));

  const gapRows = GAP_COHORTS.map((c) => ({ cohort: c, row: byCohort.get(c), complement: byCohort.get(`non_${c}`) }));
  const gap = (a: number | null | undefined, b: number | null | undefined) => (a === null || a === undefined || b === null || b === undefined ? '–' : `${(a - b) >= 0 ? '+' : ''}${(a - b).toFixed(1)} points`);

  return {
    title: 'Overview',
    body: [
      h('span', { class: 'govuk-caption-l' }, `${date(headline.period.from)} to ${date(headline.period.to)}`),
      h('h1', { class: 'govuk-heading-l' }, 'Attendance across the LA'),
      periodPicker(ctx, headline.period),
      all
        ? h('div', { class: 'govuk-grid-row app-cards', 'aria-label': 'Headline figures', role: 'region' },
            card('Attendance', pct(all.attendanceRate), `${num(all.attendedSessions)} of ${num(all.possibleSessions)} sessions`),
            card('Absence', pct(all.absenceRate), `${pct(all.authorisedAbsenceRate)} authorised, ${pct(all.unauthorisedAbsenceRate)} unauthorised`),
            card('Persistent absence', pct(all.persistentAbsenceRate), `${num(all.persistentAbsenceCount)} of ${num(all.enrolments)} pupils`),
            card('Severe absence', pct(all.severeAbsenceRate), `${num(all.severeAbsenceCount)} of ${num(all.enrolments)} pupils`))
        : h('p', { class: 'govuk-body' }, 'No registers have been received for this period yet.'),
      h('h2', { class: 'govuk-heading-m' }, 'Week by week'),
      weekRows.length
        ? h('div', { class: 'govuk-grid-row' },
            h('div', { class: 'govuk-grid-column-one-half' },
              lineChart(`Line chart of weekly attendance and absence rates, ${weekRows.length} weeks; the figures are in the table beside it.`, weekRows.map((r) => date(r.key.week)),
                [{ label: 'Attendance', values: weekRows.map((r) => r.attendanceRate) }, { label: 'Absence', values: weekRows.map((r) => r.absenceRate) }])),
            h('div', { class: 'govuk-grid-column-one-half app-scroll' },
              table<MetricsRow>('Weekly rates', [
                { header: 'Week beginning', cell: (r) => date(r.key.week) },
                { header: 'Attendance', cell: (r) => pct(r.attendanceRate), numeric: true },
                { header: 'Absence', cell: (r) => pct(r.absenceRate), numeric: true },
                { header: 'Unauthorised', cell: (r) => pct(r.unauthorisedAbsenceRate), numeric: true },
              ], weekRows, { captionClass: 'govuk-table__caption--s' })))
        : h('p', { class: 'govuk-body' }, 'No weeks in this period.'),
      h('h2', { class: 'govuk-heading-m' }, 'Cohort gaps'),
      h('p', { class: 'govuk-body' }, 'Each cohort beside the pupils outside it (its complement), as the DfE publishes them.'),
      h('div', { class: 'app-scroll' },
        table('Absence and persistent absence by cohort', [
          { header: 'Cohort', cell: (g) => cohortLabel(g.cohort) },
          { header: 'Pupils', cell: (g) => num(g.row?.enrolments), numeric: true },
          { header: 'Absence', cell: (g) => pct(g.row?.absenceRate), numeric: true },
          { header: 'Complement absence', cell: (g) => pct(g.complement?.absenceRate), numeric: true },
          { header: 'Absence gap', cell: (g) => gap(g.row?.absenceRate, g.complement?.absenceRate), numeric: true },
          { header: 'Persistent absence', cell: (g) => pct(g.row?.persistentAbsenceRate), numeric: true },
          { header: 'Complement persistent absence', cell: (g) => pct(g.complement?.persistentAbsenceRate), numeric: true },
          { header: 'Persistent absence gap', cell: (g) => gap(g.row?.persistentAbsenceRate, g.complement?.persistentAbsenceRate), numeric: true },
        ], gapRows, { captionClass: 'govuk-table__caption--s' })),
      h('p', { class: 'govuk-body-s' }, 'Rates by the DfE methodology: absence is the share of possible sessions missed; a pupil is persistently absent missing 10% or more, severely absent missing 50% or more. ',
        h('a', { class: 'govuk-link', href: `#/pupils?flag=persistent_absence${from ? `&from=${from}` : ''}${to ? `&to=${to}` : ''}` }, 'Persistently absent pupils')),
    ],
  };
}
