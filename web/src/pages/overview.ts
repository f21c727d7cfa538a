import { get, query, type Metrics, type MetricsRow, type PublishedRow, type Reference } from '../api.js';
import { lineChart } from '../chart.js';
import { h, table, chartBesideTable } from '../dom.js';
import { cohortLabel, date, GAP_COHORTS, num, pct } from '../format.js';
import type { PageContext, PageResult } from '../main.js';
import { periodPicker } from './period.js';

/** The LA officer's overview: headline rates for the period, the weekly trend, the cohort gaps. */
export async function overviewPage(ctx: PageContext): Promise<PageResult> {
  const from = ctx.query.get('from') ?? undefined;
  const to = ctx.query.get('to') ?? undefined;
  const period = { from, to };
  const regionAsked = ctx.query.get('region') ?? undefined;
  const [headline, weeks, cohorts, reference] = await Promise.all([
    get<Metrics>(`/v1/metrics${query(period)}`),
    get<Metrics>(`/v1/metrics${query({ ...period, groupBy: 'week' })}`),
    get<Metrics>(`/v1/metrics${query({ ...period, groupBy: 'cohort' })}`),
    get<Reference>(`/v1/metrics/reference${query({ region: regionAsked })}`).catch(() => undefined),
  ]);
  const national = new Map((reference?.characteristics ?? []).map((c) => [c.cohort, c]));
  const all = headline.items[0];
  const byCohort = new Map(cohorts.items.map((r) => [r.key.cohort ?? 'all', r]));
  const weekRows = [...weeks.items].sort((a, b) => ((a.key.week ?? '') < (b.key.week ?? '') ? -1 : 1));

  const card = (label: string, value: string, sub: string) =>
    h(
      'div',
      { class: 'govuk-grid-column-one-quarter app-card' },
      h('h2', { class: 'govuk-heading-s app-card__label' }, label),
      h('p', { class: 'govuk-heading-xl app-card__value' }, value),
      h('p', { class: 'govuk-body-s app-card__sub' }, sub),
    );

  const gapRows = GAP_COHORTS.map((c) => ({ cohort: c, row: byCohort.get(c), complement: byCohort.get(`non_${c}`) }));
  const gap = (a: number | null | undefined, b: number | null | undefined) =>
    a === null || a === undefined || b === null || b === undefined
      ? '–'
      : `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(1)} points`;

  return {
    title: 'Overview',
    body: [
      h('span', { class: 'govuk-caption-l' }, `${date(headline.period.from)} to ${date(headline.period.to)}`),
      h('h1', { class: 'govuk-heading-l' }, 'Attendance across the LA'),
      periodPicker(ctx, headline.period),
      all
        ? h(
            'div',
            { class: 'govuk-grid-row app-cards', 'aria-label': 'Headline figures', role: 'region' },
            card(
              'Attendance',
              pct(all.attendanceRate),
              `${num(all.attendedSessions)} of ${num(all.possibleSessions)} sessions`,
            ),
            card(
              'Absence',
              pct(all.absenceRate),
              `${pct(all.authorisedAbsenceRate)} authorised, ${pct(all.unauthorisedAbsenceRate)} unauthorised`,
            ),
            card(
              'Persistent absence',
              pct(all.persistentAbsenceRate),
              `${num(all.persistentAbsenceCount)} of ${num(all.enrolments)} pupils`,
            ),
            card(
              'Severe absence',
              pct(all.severeAbsenceRate),
              `${num(all.severeAbsenceCount)} of ${num(all.enrolments)} pupils`,
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No registers have been received for this period yet.'),
      h('h2', { class: 'govuk-heading-m' }, 'Week by week'),
      weekRows.length
        ? chartBesideTable(
            lineChart(
              `Line chart of weekly attendance and absence rates, ${weekRows.length} weeks; the figures are in the table beside it.`,
              weekRows.map((r) => date(r.key.week)),
              [
                { label: 'Attendance', values: weekRows.map((r) => r.attendanceRate) },
                { label: 'Absence', values: weekRows.map((r) => r.absenceRate) },
              ],
            ),
            table<MetricsRow>(
              'Weekly rates',
              [
                { header: 'Week beginning', cell: (r) => date(r.key.week) },
                { header: 'Attendance', cell: (r) => pct(r.attendanceRate), numeric: true },
                { header: 'Absence', cell: (r) => pct(r.absenceRate), numeric: true },
                { header: 'Unauthorised', cell: (r) => pct(r.unauthorisedAbsenceRate), numeric: true },
              ],
              weekRows,
              { captionClass: 'govuk-table__caption--s' },
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No weeks in this period.'),
      h('h2', { class: 'govuk-heading-m' }, 'Cohort gaps'),
      h(
        'p',
        { class: 'govuk-body' },
        'Each cohort beside the pupils outside it (its complement), as the DfE publishes them.',
      ),
      h(
        'div',
        { class: 'app-scroll' },
        table(
          'Absence and persistent absence by cohort',
          [
            { header: 'Cohort', cell: (g) => cohortLabel(g.cohort) },
            { header: 'Pupils', cell: (g) => num(g.row?.enrolments), numeric: true },
            { header: 'Absence', cell: (g) => pct(g.row?.absenceRate), numeric: true },
            { header: 'Complement absence', cell: (g) => pct(g.complement?.absenceRate), numeric: true },
            { header: 'Absence gap', cell: (g) => gap(g.row?.absenceRate, g.complement?.absenceRate), numeric: true },
            { header: 'Persistent absence', cell: (g) => pct(g.row?.persistentAbsenceRate), numeric: true },
            {
              header: 'Complement persistent absence',
              cell: (g) => pct(g.complement?.persistentAbsenceRate),
              numeric: true,
            },
            {
              header: 'Persistent absence gap',
              cell: (g) => gap(g.row?.persistentAbsenceRate, g.complement?.persistentAbsenceRate),
              numeric: true,
            },
            { header: 'National absence', cell: (g) => pct(national.get(g.cohort)?.absenceRate), numeric: true },
            {
              header: 'National persistent absence',
              cell: (g) => pct(national.get(g.cohort)?.persistentAbsenceRate),
              numeric: true,
            },
          ],
          gapRows,
          { captionClass: 'govuk-table__caption--s' },
        ),
      ),
      reference
        ? h(
            'p',
            { class: 'govuk-body-s' },
            'National figures by characteristic: ',
            reference.characteristics
              .filter((c) => GAP_COHORTS.includes(c.cohort as never))
              .map((c) => `${c.label}, ${c.period} (${c.source})`)
              .join('; '),
            '.',
          )
        : null,
      reference && all ? comparison(ctx, all, reference, headline.period) : null,
      h(
        'p',
        { class: 'govuk-body-s' },
        'Rates by the DfE methodology: absence is the share of possible sessions missed; a pupil is persistently absent missing 10% or more, severely absent missing 50% or more. ',
        h(
          'a',
          {
            class: 'govuk-link',
            href: `#/pupils?flag=persistent_absence${from ? `&from=${from}` : ''}${to ? `&to=${to}` : ''}`,
          },
          'Persistently absent pupils',
        ),
      ),
    ],
  };
}

/** This LA beside England, its region and the region's other LAs (the DfE's published year to date). */
function comparison(
  ctx: PageContext,
  all: MetricsRow,
  ref: Reference,
  period: { from: string; to: string },
): HTMLElement[] {
  type Line = {
    name: string;
    absenceRate: number | null;
    persistentAbsenceRate: number | null;
    attendanceRate: number | null;
    self?: boolean;
  };
  const self: Line = {
    name: 'This LA (Attendance Hub)',
    attendanceRate: all.attendanceRate,
    absenceRate: all.absenceRate,
    persistentAbsenceRate: all.persistentAbsenceRate,
    self: true,
  };
  const fromRow = (r: PublishedRow): Line => ({
    name: r.name,
    attendanceRate: r.attendanceRate,
    absenceRate: r.absenceRate,
    persistentAbsenceRate: r.persistentAbsenceRate,
  });
  const others = ref.regionLas.filter((r) => r.laCode !== ref.la?.laCode).map(fromRow);
  const ranked = [...others, self].sort((a, b) => (a.absenceRate ?? Infinity) - (b.absenceRate ?? Infinity));
  const rank = ranked.indexOf(self) + 1;
  const published = ranked.filter((l) => l.absenceRate !== null).length;
  const regionSelect = h(
    'select',
    { class: 'govuk-select', id: 'region', name: 'region' },
    h('option', { value: '' }, ref.la ? `${ref.la.regionName ?? 'Own region'} (this LA’s)` : 'Choose a region'),
    ref.regions.map((r) =>
      h('option', { value: r.code, selected: r.code === ref.region?.code && !!ctx.query.get('region') }, r.name),
    ),
  );
  const cols = [
    { header: 'Area', cell: (l: Line) => (l.self ? h('strong', null, l.name) : l.name) },
    { header: 'Attendance', cell: (l: Line) => pct(l.attendanceRate), numeric: true },
    { header: 'Absence', cell: (l: Line) => pct(l.absenceRate), numeric: true },
    { header: 'Persistent absence', cell: (l: Line) => pct(l.persistentAbsenceRate), numeric: true },
  ];
  return [
    h('h2', { class: 'govuk-heading-m' }, 'Compared with published figures'),
    h(
      'p',
      { class: 'govuk-body' },
      `This LA from ${date(period.from)} to ${date(period.to)}, beside the DfE’s published figures for ${ref.source.period} (all phases). `,
      ref.region && rank
        ? h(
            'strong',
            null,
            `Absence ranks ${rank} of ${published} LAs in ${ref.region.name} (1 = lowest absence; LAs whose figures are suppressed are not ranked).`,
          )
        : 'Choose a region to see where the LA ranks in it.',
    ),
    h(
      'form',
      {
        class: 'app-filters',
        'aria-label': 'Compare with a region',
        onsubmit: (e: Event) => {
          e.preventDefault();
          ctx.setQuery({
            from: ctx.query.get('from') ?? undefined,
            to: ctx.query.get('to') ?? undefined,
            region: regionSelect.value,
          });
        },
      },
      h(
        'div',
        { class: 'govuk-form-group app-filters__item' },
        h('label', { class: 'govuk-label', for: 'region' }, 'Region'),
        regionSelect,
      ),
      h(
        'div',
        { class: 'app-filters__item' },
        h('button', { type: 'submit', class: 'govuk-button govuk-button--secondary' }, 'Compare'),
      ),
    ),
    h(
      'div',
      { class: 'app-scroll' },
      table<Line>(
        'This LA, England and the region',
        cols,
        [self, ...(ref.national ? [fromRow(ref.national)] : []), ...(ref.region ? [fromRow(ref.region)] : [])],
        { captionClass: 'govuk-table__caption--s' },
      ),
    ),
    ref.region
      ? h(
          'div',
          { class: 'app-scroll' },
          table<Line>(
            `LAs in ${ref.region.name}, lowest absence first`,
            [
              {
                header: 'Rank',
                cell: (l) => (l.absenceRate === null ? '–' : String(ranked.indexOf(l) + 1)),
                numeric: true,
              },
              ...cols,
            ],
            ranked,
            { captionClass: 'govuk-table__caption--s', rowClass: (l) => (l.self ? 'app-row--self' : undefined) },
          ),
        )
      : null,
    h(
      'p',
      { class: 'govuk-body-s' },
      'Source: ',
      h('a', { class: 'govuk-link', href: ref.source.url }, ref.source.title),
      `, ${ref.source.publisher}, retrieved ${date(ref.source.retrieved)}; ${ref.source.licence}. Suppressed figures show as –.`,
    ),
  ].filter(Boolean) as HTMLElement[];
}
