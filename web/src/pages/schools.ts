import {
  get,
  query,
  type Metrics,
  type MetricsRow,
  type Page,
  type PupilListItem,
  type School,
  getAll,
} from '../api.js';
import { lineChart } from '../chart.js';
import { h, summaryList, table, tag, countColumn, chartBesideTable } from '../dom.js';
import { cohortLabel, date, dateTime, GAP_COHORTS, num, pct, PHASE_LABELS } from '../format.js';
import type { PageContext, PageResult } from '../main.js';
import { periodPicker } from './period.js';
import { returnsTable, type ReturnItem } from './returns.js';

/** Red/amber/green thresholds; the LA sets them here and they are kept in this browser. */
interface Thresholds {
  attendanceGreen: number;
  attendanceAmber: number;
  paGreen: number;
  paAmber: number;
}
const DEFAULT_THRESHOLDS: Thresholds = { attendanceGreen: 94, attendanceAmber: 92, paGreen: 15, paAmber: 20 };
const THRESHOLDS_KEY = 'attendance-hub.rag-thresholds';

function thresholds(): Thresholds {
  try {
    return {
      ...DEFAULT_THRESHOLDS,
      ...(JSON.parse(localStorage.getItem(THRESHOLDS_KEY) ?? '{}') as Partial<Thresholds>),
    };
  } catch {
    return DEFAULT_THRESHOLDS;
  }
}

type Rag = 'green' | 'amber' | 'red' | 'none';
function ragOf(s: School, t: Thresholds): Rag {
  const att = s.headline?.attendanceRate;
  const pa = s.headline?.persistentAbsenceRate;
  if (att === null || att === undefined) return 'none';
  const a: Rag = att >= t.attendanceGreen ? 'green' : att >= t.attendanceAmber ? 'amber' : 'red';
  const p: Rag =
    pa === null || pa === undefined ? 'green' : pa <= t.paGreen ? 'green' : pa <= t.paAmber ? 'amber' : 'red';
  return a === 'red' || p === 'red' ? 'red' : a === 'amber' || p === 'amber' ? 'amber' : 'green';
}
const RAG_TAG: Record<Rag, HTMLElement | string> = { green: 'Green', amber: 'Amber', red: 'Red', none: 'No data' };
function ragTag(r: Rag): HTMLElement {
  return r === 'none'
    ? tag('No data', 'grey')
    : tag(String(RAG_TAG[r]), r === 'green' ? 'green' : r === 'amber' ? 'orange' : 'red');
}

function thresholdForm(ctx: PageContext, t: Thresholds): HTMLElement {
  const input = (id: keyof Thresholds, label: string) =>
    h(
      'div',
      { class: 'govuk-form-group app-filters__item' },
      h('label', { class: 'govuk-label', for: `t-${id}` }, label),
      h(
        'div',
        { class: 'govuk-input__wrapper' },
        h('input', {
          class: 'govuk-input govuk-input--width-4',
          id: `t-${id}`,
          name: id,
          inputmode: 'decimal',
          value: String(t[id]),
        }),
        h('div', { class: 'govuk-input__suffix', 'aria-hidden': 'true' }, '%'),
      ),
    );
  return h(
    'details',
    { class: 'govuk-details' },
    h(
      'summary',
      { class: 'govuk-details__summary' },
      h('span', { class: 'govuk-details__summary-text' }, 'Change the red, amber and green thresholds'),
    ),
    h(
      'div',
      { class: 'govuk-details__text' },
      h(
        'form',
        {
          class: 'app-filters',
          onsubmit: (e: Event) => {
            e.preventDefault();
            const data = new FormData(e.target as HTMLFormElement);
            const next = Object.fromEntries(
              Object.keys(DEFAULT_THRESHOLDS)
                .map((k) => [k, Number(data.get(k))])
                .filter(([, v]) => Number.isFinite(v)),
            );
            localStorage.setItem(THRESHOLDS_KEY, JSON.stringify(next));
            ctx.setQuery({ saved: String(Date.now()) });
          },
        },
        input('attendanceGreen', 'Green: attendance at least'),
        input('attendanceAmber', 'Amber: attendance at least'),
        input('paGreen', 'Green: persistent absence at most'),
        input('paAmber', 'Amber: persistent absence at most'),
        h(
          'div',
          { class: 'app-filters__item' },
          h('button', { type: 'submit', class: 'govuk-button govuk-button--secondary' }, 'Save thresholds'),
        ),
      ),
    ),
  );
}

export async function schoolsPage(ctx: PageContext): Promise<PageResult> {
  const list = await getAll<School>('/v1/schools');
  const t = thresholds();
  const rows = list.items.filter((s) => !s.outOfArea);
  const counts = { red: 0, amber: 0, green: 0, none: 0 };
  for (const s of rows) counts[ragOf(s, t)]++;
  return {
    title: 'Schools',
    body: [
      h('h1', { class: 'govuk-heading-l' }, 'Schools'),
      h(
        'p',
        { class: 'govuk-body' },
        `${rows.length} schools: ${counts.red} red, ${counts.amber} amber, ${counts.green} green. Red when attendance is below ${t.attendanceAmber.toFixed(1)}% or persistent absence above ${t.paAmber.toFixed(1)}%; green when attendance is at least ${t.attendanceGreen.toFixed(1)}% and persistent absence at most ${t.paGreen.toFixed(1)}%.`,
      ),
      thresholdForm(ctx, t),
      h(
        'div',
        { class: 'app-scroll' },
        table<School>(
          'Schools, year to date',
          [
            {
              header: 'School',
              cell: (s) => h('a', { class: 'govuk-link', href: `#/schools/${s.urn}` }, s.name ?? `URN ${s.urn}`),
              sort: (s) => s.name ?? s.urn,
            },
            { header: 'Phase', cell: (s) => PHASE_LABELS[s.phase ?? ''] ?? s.phase ?? '–', sort: (s) => s.phase },
            {
              header: 'Status',
              cell: (s) => ragTag(ragOf(s, t)),
              sort: (s) => ({ red: 0, amber: 1, green: 2, none: 3 })[ragOf(s, t)],
            },
            {
              header: 'Attendance',
              cell: (s) => pct(s.headline?.attendanceRate),
              numeric: true,
              sort: (s) => s.headline?.attendanceRate ?? null,
            },
            {
              header: 'Persistent absence',
              cell: (s) => pct(s.headline?.persistentAbsenceRate),
              numeric: true,
              sort: (s) => s.headline?.persistentAbsenceRate ?? null,
            },
            { header: 'Last return received', cell: (s) => dateTime(s.lastReturnAt), sort: (s) => s.lastReturnAt },
            { header: 'Latest date', cell: (s) => date(s.latestDate), sort: (s) => s.latestDate },
            countColumn('Unmarked sessions', (s) => s.unmarkedSessions),
          ],
          rows,
          { captionClass: 'govuk-table__caption--s', initialSort: { column: 2 } },
        ),
      ),
    ],
  };
}

export async function schoolPage(ctx: PageContext): Promise<PageResult> {
  const urn = ctx.params[0];
  const period = { from: ctx.query.get('from') ?? undefined, to: ctx.query.get('to') ?? undefined };
  const base = { scope: 'school', urn, ...period };
  const [school, headline, weeks, years, cohorts, flagged, returns] = await Promise.all([
    get<School & { breaks: Array<{ start: string; end: string; label: string | null }> }>(`/v1/schools/${urn}`),
    get<Metrics>(`/v1/metrics${query(base)}`),
    get<Metrics>(`/v1/metrics${query({ ...base, groupBy: 'week' })}`),
    get<Metrics>(`/v1/metrics${query({ ...base, groupBy: 'year_group' })}`),
    get<Metrics>(`/v1/metrics${query({ ...base, groupBy: 'cohort' })}`),
    get<Page<PupilListItem>>(`/v1/pupils${query({ flag: 'persistent_absence', urn, limit: 50, ...period })}`),
    get<Page<ReturnItem>>(`/v1/returns${query({ urn, limit: 20 })}`).catch(() => ({
      items: [] as ReturnItem[],
      nextCursor: null,
    })),
  ]);
  const all = headline.items[0];
  const weekRows = [...weeks.items].sort((a, b) => ((a.key.week ?? '') < (b.key.week ?? '') ? -1 : 1));
  const yearRows = [...years.items].sort((a, b) => (Number(a.key.yearGroup) || 99) - (Number(b.key.yearGroup) || 99));
  const byCohort = new Map(cohorts.items.map((r) => [r.key.cohort ?? 'all', r]));
  const rateCols = [
    { header: 'Pupils', cell: (r: MetricsRow) => num(r.enrolments), numeric: true },
    { header: 'Attendance', cell: (r: MetricsRow) => pct(r.attendanceRate), numeric: true },
    { header: 'Absence', cell: (r: MetricsRow) => pct(r.absenceRate), numeric: true },
    { header: 'Persistent absence', cell: (r: MetricsRow) => pct(r.persistentAbsenceRate), numeric: true },
  ];
  return {
    title: school.name ?? `URN ${urn}`,
    body: [
      h(
        'span',
        { class: 'govuk-caption-l' },
        `URN ${urn}${school.phase ? ` · ${PHASE_LABELS[school.phase] ?? school.phase}` : ''}`,
      ),
      h('h1', { class: 'govuk-heading-l' }, school.name ?? `URN ${urn}`),
      periodPicker(ctx, headline.period),
      summaryList([
        ['Attendance', pct(all?.attendanceRate)],
        ['Absence', pct(all?.absenceRate)],
        ['Persistent absence', `${pct(all?.persistentAbsenceRate)} (${num(all?.persistentAbsenceCount)} pupils)`],
        ['Severe absence', `${pct(all?.severeAbsenceRate)} (${num(all?.severeAbsenceCount)} pupils)`],
        ['Last return received', dateTime(school.lastReturnAt)],
        ['Latest date in its register', date(school.latestDate)],
        ['Unmarked sessions', num(school.unmarkedSessions)],
      ]),
      h('h2', { class: 'govuk-heading-m' }, 'Week by week'),
      weekRows.length
        ? chartBesideTable(
            lineChart(
              `Line chart of this school's weekly attendance rate, ${weekRows.length} weeks; the figures are in the table beside it.`,
              weekRows.map((r) => date(r.key.week)),
              [{ label: 'Attendance', values: weekRows.map((r) => r.attendanceRate) }],
            ),
            table<MetricsRow>(
              'Weekly rates',
              [
                { header: 'Week beginning', cell: (r) => date(r.key.week) },
                { header: 'Attendance', cell: (r) => pct(r.attendanceRate), numeric: true },
                { header: 'Absence', cell: (r) => pct(r.absenceRate), numeric: true },
              ],
              weekRows,
              { captionClass: 'govuk-table__caption--s' },
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No weeks in this period.'),
      h(
        'div',
        { class: 'govuk-grid-row' },
        h(
          'div',
          { class: 'govuk-grid-column-one-half app-scroll' },
          table<MetricsRow>(
            'Year groups',
            [{ header: 'Year group', cell: (r) => r.key.yearGroup ?? '–' }, ...rateCols],
            yearRows,
          ),
        ),
        h(
          'div',
          { class: 'govuk-grid-column-one-half app-scroll' },
          table<string>(
            'Cohorts',
            [
              { header: 'Cohort', cell: (c) => cohortLabel(c) },
              { header: 'Absence', cell: (c) => pct(byCohort.get(c)?.absenceRate), numeric: true },
              { header: 'Complement', cell: (c) => pct(byCohort.get(`non_${c}`)?.absenceRate), numeric: true },
              { header: 'Persistent absence', cell: (c) => pct(byCohort.get(c)?.persistentAbsenceRate), numeric: true },
            ],
            [...GAP_COHORTS],
          ),
        ),
      ),
      h('h2', { class: 'govuk-heading-m' }, 'Persistently absent pupils'),
      flagged.items.length
        ? h(
            'div',
            { class: 'app-scroll' },
            table<PupilListItem>(
              'Persistently absent pupils',
              [
                {
                  header: 'Pupil',
                  cell: (p) =>
                    h(
                      'a',
                      { class: 'govuk-link', href: `#/pupils/${p.upn}` },
                      [p.forename, p.surname].filter(Boolean).join(' ') || p.upn,
                    ),
                },
                { header: 'Year', cell: (p) => p.yearGroup ?? '–' },
                { header: 'Absence', cell: (p) => pct(p.stats.absenceRate), numeric: true },
                {
                  header: 'Unauthorised sessions',
                  cell: (p) => num(p.stats.unauthorisedAbsenceSessions),
                  numeric: true,
                },
              ],
              flagged.items,
              { captionClass: 'govuk-visually-hidden' },
            ),
          )
        : h('p', { class: 'govuk-body' }, 'None.'),
      h(
        'p',
        { class: 'govuk-body' },
        h('a', { class: 'govuk-link', href: `#/pupils?urn=${urn}` }, 'All flag lists for this school'),
      ),
      h('h2', { class: 'govuk-heading-m' }, 'Returns'),
      returnsTable(returns.items),
    ],
  };
}
