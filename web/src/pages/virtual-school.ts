/**
 * The Virtual School Head (issue 19): the roll (every child in the cohorts, wherever educated, in the
 * LA or out of it, or on no register), the day's alerts, the cohort's figures beside the LA's and
 * England's, and each child's termly PEP attendance summary. All from /v1/virtual-school/… and
 * /v1/metrics with the VSH's token.
 */
import { downloadCsv, get, query, type Metrics, type MetricsRow, type Reference, type Stats } from '../api.js';
import { h, nextPage, summaryList, table, tag, countColumn, rateColumn, filterForm } from '../dom.js';
import { cohortLabel, date, num, pct, sessionCount } from '../format.js';
import type { PageContext, PageResult } from '../main.js';

interface SchoolRef {
  urn: string;
  name: string | null;
  outOfArea: boolean;
}
interface RollItem {
  upn: string;
  forename: string | null;
  surname: string | null;
  yearGroup: string | null;
  everCohorts: string[];
  cohortsAtEnd: string[];
  onRegister: boolean;
  schools: SchoolRef[];
  daysInCohort: number;
  stats: Stats;
  persistentAbsence: boolean;
  severeAbsence: boolean;
}
interface Roll {
  from: string;
  to: string;
  cohort: string;
  items: RollItem[];
  nextCursor: string | null;
  total: number;
}
interface Alert {
  type: string;
  date: string;
  session: 'AM' | 'PM' | null;
  code: string | null;
  upn: string;
  forename: string | null;
  surname: string | null;
  yearGroup: string | null;
  cohorts: string[];
  urn: string | null;
  schoolName: string | null;
  outOfArea: boolean | null;
  careStart: string | null;
  reason: string | null;
  lastListed: string | null;
}
interface Alerts {
  date: string;
  newInCareDays: number;
  counts: Record<string, number>;
  items: Alert[];
  nextCursor: string | null;
  total: number;
}
interface PepTerm {
  term: string;
  label: string;
  from: string;
  to: string;
  daysInCohort: number;
  inCohort: Array<{ from: string; to: string }>;
  stats: Stats;
  persistentAbsence: boolean;
  severeAbsence: boolean;
  exclusionSessions: number;
  unmarkedSessions: number;
  schools: Array<SchoolRef & { stats: Stats }>;
}
interface Pep {
  upn: string;
  forename: string | null;
  surname: string | null;
  dob: string | null;
  yearGroup: string | null;
  academicYear: number;
  cohort: string;
  terms: PepTerm[];
}

const GROUPS: Array<[string, string]> = [
  ['any', 'Any Virtual School cohort'],
  ['cla', 'Looked after'],
  ['plac', 'Previously looked after'],
  ['cin', 'Child in need'],
  ['cpp', 'Child protection plan'],
  ['social_worker', 'Has a social worker'],
];
const ALERT_LABELS: Record<string, string> = {
  exclusion: 'Exclusions',
  absence: 'Absences',
  unmarked: 'Sessions not marked',
  new_in_care: 'New in care',
};
const REASON_LABELS: Record<string, string> = {
  not_on_any_register: 'On no school’s register',
  no_return_since_care_began: 'No return since care began',
};

const childName = (c: { forename: string | null; surname: string | null; upn: string }) =>
  [c.forename, c.surname].filter(Boolean).join(' ') || c.upn;
const schoolText = (s: SchoolRef) => `${s.name ?? `URN ${s.urn}`}`;

function schoolsCell(schools: SchoolRef[], onRegister: boolean) {
  if (!schools.length) return onRegister ? '–' : tag('On no register', 'red');
  return h(
    'ul',
    { class: 'govuk-list govuk-body-s govuk-!-margin-bottom-0' },
    schools.map((s) => h('li', null, schoolText(s), s.outOfArea ? [' ', tag('Out of area', 'purple')] : null)),
  );
}

/**
 * The cohort beside the LA and England. The LA's all-pupil figures come from /v1/metrics where the
 * caller may read them (an LA officer); a VSH's token reads only its cohorts, so for the VSH the LA's
 * row is the DfE's published figure for the LA (where the DfE lists it).
 */
function metricsTable(
  cohort: string,
  own: MetricsRow | undefined,
  la: MetricsRow | undefined,
  ref: Reference | undefined,
): HTMLElement {
  const national = ref?.characteristics.find((c) => c.cohort === cohort);
  type Row = { name: string; attendance: string; absence: string; pa: string; sa: string };
  const rows: Row[] = [
    {
      name: `${cohortLabel(cohort)}, this LA`,
      attendance: pct(own?.attendanceRate),
      absence: pct(own?.absenceRate),
      pa: pct(own?.persistentAbsenceRate),
      sa: pct(own?.severeAbsenceRate),
    },
  ];
  if (la)
    rows.push({
      name: 'All pupils, this LA',
      attendance: pct(la.attendanceRate),
      absence: pct(la.absenceRate),
      pa: pct(la.persistentAbsenceRate),
      sa: pct(la.severeAbsenceRate),
    });
  else if (ref?.la)
    rows.push({
      name: `All pupils, ${ref.la.name} (DfE published)`,
      attendance: pct(ref.la.attendanceRate),
      absence: pct(ref.la.absenceRate),
      pa: pct(ref.la.persistentAbsenceRate),
      sa: '–',
    });
  if (national)
    rows.push({
      name: `${national.label}, England`,
      attendance: '–',
      absence: pct(national.absenceRate),
      pa: pct(national.persistentAbsenceRate),
      sa: pct(national.severeAbsenceRate),
    });
  if (ref?.national)
    rows.push({
      name: 'All pupils, England',
      attendance: pct(ref.national.attendanceRate),
      absence: pct(ref.national.absenceRate),
      pa: pct(ref.national.persistentAbsenceRate),
      sa: '–',
    });
  return h(
    'div',
    { class: 'app-scroll' },
    table<Row>(
      'The cohort beside the LA and England',
      [
        { header: 'Group', cell: (r) => r.name },
        { header: 'Attendance', cell: (r) => r.attendance, numeric: true },
        { header: 'Absence', cell: (r) => r.absence, numeric: true },
        { header: 'Persistent absence', cell: (r) => r.pa, numeric: true },
        { header: 'Severe absence', cell: (r) => r.sa, numeric: true },
      ],
      rows,
      { captionClass: 'govuk-table__caption--s' },
    ),
    !la && !ref?.la
      ? h(
          'p',
          { class: 'govuk-body-s' },
          'The DfE publishes no figures for this LA, and the LA’s all-pupil figures are for its officers.',
        )
      : null,
    national
      ? null
      : h(
          'p',
          { class: 'govuk-body-s' },
          `No national figure for ${cohortLabel(cohort).toLowerCase()} children is held in the published reference data.`,
        ),
    national || ref
      ? h(
          'p',
          { class: 'govuk-body-s' },
          `England: ${national ? `${national.source}, ${national.period}` : ''}${national && ref ? '; ' : ''}${ref ? `${ref.source.title}, ${ref.source.period}` : ''}. The cohort’s figures count only sessions while in the cohort.`,
        )
      : null,
  );
}

export async function virtualSchoolPage(ctx: PageContext): Promise<PageResult> {
  const cohort = ctx.query.get('cohort') ?? 'any';
  const alertDate = ctx.query.get('date') ?? undefined;
  const metricCohort = cohort === 'any' ? 'cla' : cohort;
  const [roll, alerts, metrics, ref, laAll] = await Promise.all([
    get<Roll>(`/v1/virtual-school/pupils${query({ cohort, limit: 200, cursor: ctx.query.get('cursor') })}`),
    get<Alerts>(`/v1/virtual-school/alerts${query({ date: alertDate, limit: 200 })}`),
    get<Metrics>(`/v1/metrics${query({ cohort: metricCohort })}`).catch(() => undefined),
    get<Reference>('/v1/metrics/reference').catch(() => undefined),
    ctx.session.role === 'la_officer' ? get<Metrics>('/v1/metrics').catch(() => undefined) : Promise.resolve(undefined),
  ]);
  const outOfArea = roll.items.filter((i) => i.schools.some((s) => s.outOfArea)).length;
  const noRegister = roll.items.filter((i) => !i.onRegister).length;
  const form = filterForm(
    (q) => ctx.setQuery(q),
    h(
      'div',
      { class: 'govuk-form-group app-filters__item' },
      h('label', { class: 'govuk-label', for: 'cohort' }, 'Cohort'),
      h(
        'select',
        { class: 'govuk-select', id: 'cohort', name: 'cohort' },
        GROUPS.map(([v, t]) => h('option', { value: v, selected: v === cohort }, t)),
      ),
    ),
    h(
      'div',
      { class: 'govuk-form-group app-filters__item' },
      h('label', { class: 'govuk-label', for: 'date' }, 'Alerts for'),
      h('input', { class: 'govuk-input', type: 'date', id: 'date', name: 'date', value: alerts.date }),
    ),
    h('div', { class: 'app-filters__item' }, h('button', { type: 'submit', class: 'govuk-button' }, 'Show')),
  );
  const alertRows = alerts.items;
  return {
    title: 'Virtual School',
    body: [
      h('h1', { class: 'govuk-heading-l' }, 'Virtual School'),
      h(
        'p',
        { class: 'govuk-body' },
        `Every child in the Virtual School’s cohorts, wherever they are educated, ${date(roll.from)} to ${date(roll.to)}. `,
        h('a', { class: 'govuk-link', href: '#/upload' }, 'Upload an out-of-area school’s return'),
        '.',
      ),
      form,
      h('h2', { class: 'govuk-heading-m' }, `Alerts for ${date(alerts.date)}`),
      h(
        'ul',
        { class: 'govuk-list', 'aria-label': 'Alert counts' },
        Object.entries(ALERT_LABELS).map(([t, l]) =>
          h('li', null, h('strong', null, num(alerts.counts[t] ?? 0)), ` ${l.toLowerCase()}`),
        ),
      ),
      alertRows.length
        ? h(
            'div',
            { class: 'app-scroll' },
            table<Alert>(
              'Alerts',
              [
                {
                  header: 'Child',
                  cell: (a) => h('a', { class: 'govuk-link', href: `#/virtual-school/pupils/${a.upn}` }, childName(a)),
                },
                { header: 'Alert', cell: (a) => (ALERT_LABELS[a.type] ?? a.type).replace(/s$/, '') },
                { header: 'Session', cell: (a) => (a.session ? `${a.session}${a.code ? ` ${a.code}` : ''}` : '–') },
                {
                  header: 'School',
                  cell: (a) =>
                    a.urn
                      ? [a.schoolName ?? `URN ${a.urn}`, a.outOfArea ? [' ', tag('Out of area', 'purple')] : null]
                      : '–',
                },
                {
                  header: 'Detail',
                  cell: (a) =>
                    [
                      a.careStart ? `In care since ${date(a.careStart)}` : '',
                      a.reason ? `${a.careStart ? '. ' : ''}${REASON_LABELS[a.reason] ?? a.reason}` : '',
                      a.lastListed ? `; last listed ${date(a.lastListed)}` : '',
                    ].join('') || '–',
                },
              ],
              alertRows,
              { captionClass: 'govuk-visually-hidden' },
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No alerts for this day.'),
      h('h2', { class: 'govuk-heading-m' }, 'Figures'),
      metricsTable(metricCohort, metrics?.items[0], laAll?.items[0], ref),
      h('h2', { class: 'govuk-heading-m' }, 'The roll'),
      h(
        'p',
        { class: 'govuk-body', role: 'status' },
        `${num(roll.total)} ${roll.total === 1 ? 'child' : 'children'}, ${num(outOfArea)} educated out of area, ${num(noRegister)} on no register; worst absence first.`,
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'govuk-button govuk-button--secondary',
          onclick: () => void downloadCsv(`/v1/virtual-school/pupils${query({ cohort })}`, 'virtual-school.csv'),
        },
        'Download CSV',
      ),
      roll.items.length
        ? h(
            'div',
            { class: 'app-scroll' },
            table<RollItem>(
              'The Virtual School’s roll',
              [
                {
                  header: 'Child',
                  cell: (c) => h('a', { class: 'govuk-link', href: `#/virtual-school/pupils/${c.upn}` }, childName(c)),
                  sort: (c) => childName(c),
                },
                { header: 'Year', cell: (c) => c.yearGroup ?? '–', sort: (c) => Number(c.yearGroup) || c.yearGroup },
                { header: 'Cohorts', cell: (c) => c.everCohorts.map(cohortLabel).join(', ') },
                { header: 'Schools', cell: (c) => schoolsCell(c.schools, c.onRegister) },
                countColumn('Days in cohort', (c) => c.daysInCohort),
                rateColumn('Attendance', (c) => c.stats.attendanceRate),
                rateColumn('Absence', (c) => c.stats.absenceRate),
                countColumn('Unauthorised sessions', (c) => c.stats.unauthorisedAbsenceSessions),
                {
                  header: 'PA / SA',
                  cell: (c) =>
                    c.severeAbsence ? tag('Severe', 'red') : c.persistentAbsence ? tag('Persistent', 'orange') : '–',
                },
              ],
              roll.items,
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No children in this cohort.'),
      nextPage(roll.nextCursor && `#/virtual-school${query({ cohort, cursor: roll.nextCursor })}`),
    ],
  };
}

/** A child's PEP attendance: per census term, only the sessions while in the cohort, across schools. */
export async function pepPage(ctx: PageContext): Promise<PageResult> {
  const upn = ctx.params[0];
  const cohort = ctx.query.get('cohort') ?? 'cla';
  const pep = await get<Pep>(`/v1/virtual-school/pupils/${encodeURIComponent(upn)}/pep-summary${query({ cohort })}`);
  const who = childName(pep);
  return {
    title: `${who}: PEP attendance`,
    body: [
      h(
        'span',
        { class: 'govuk-caption-l' },
        `UPN ${pep.upn}${pep.yearGroup ? ` · Year ${pep.yearGroup}` : ''} · ${pep.academicYear}/${String(pep.academicYear + 1).slice(2)}`,
      ),
      h('h1', { class: 'govuk-heading-l' }, who),
      h(
        'p',
        { class: 'govuk-body' },
        `Attendance for the Personal Education Plan, term by term: only the sessions while ${cohortLabel(cohort).toLowerCase()}, at every school. `,
        h('a', { class: 'govuk-link', href: `#/pupils/${pep.upn}` }, 'All marks on a calendar'),
        '.',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'govuk-button govuk-button--secondary',
          onclick: () =>
            void downloadCsv(
              `/v1/virtual-school/pupils/${encodeURIComponent(upn)}/pep-summary${query({ cohort })}`,
              `pep-${upn}.csv`,
            ),
        },
        'Download CSV',
      ),
      pep.terms.map((t) =>
        h(
          'section',
          { 'aria-labelledby': `term-${t.term}` },
          h('h2', { class: 'govuk-heading-m', id: `term-${t.term}` }, `${t.label} (${date(t.from)} to ${date(t.to)})`),
          t.daysInCohort === 0
            ? h('p', { class: 'govuk-body' }, 'Not in the cohort this term.')
            : t.stats.possibleSessions === 0 && t.unmarkedSessions === 0
              ? h('p', { class: 'govuk-body' }, 'No school sessions recorded in this term yet.')
              : [
                  summaryList([
                    ['Days in the cohort', num(t.daysInCohort)],
                    ['Attendance', pct(t.stats.attendanceRate)],
                    [
                      'Absence',
                      `${pct(t.stats.absenceRate)} (${num(t.stats.absenceSessions)} of ${sessionCount(t.stats.possibleSessions)})`,
                    ],
                    ['Unauthorised absence', sessionCount(t.stats.unauthorisedAbsenceSessions)],
                    ['Exclusion sessions', num(t.exclusionSessions)],
                    ['Sessions not marked', num(t.unmarkedSessions)],
                    [
                      'Persistent / severe absence',
                      t.severeAbsence ? 'Severely absent' : t.persistentAbsence ? 'Persistently absent' : 'Neither',
                    ],
                  ]),
                  t.schools.length
                    ? h(
                        'div',
                        { class: 'app-scroll' },
                        table<PepTerm['schools'][number]>(
                          `${t.label}: by school`,
                          [
                            {
                              header: 'School',
                              cell: (s) => [schoolText(s), s.outOfArea ? [' ', tag('Out of area', 'purple')] : null],
                            },
                            { header: 'Possible sessions', cell: (s) => num(s.stats.possibleSessions), numeric: true },
                            { header: 'Attendance', cell: (s) => pct(s.stats.attendanceRate), numeric: true },
                            { header: 'Absence', cell: (s) => pct(s.stats.absenceRate), numeric: true },
                          ],
                          t.schools,
                          { captionClass: 'govuk-table__caption--s' },
                        ),
                      )
                    : null,
                ],
        ),
      ),
    ],
  };
}
