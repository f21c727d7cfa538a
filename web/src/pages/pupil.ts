import { categoryOf } from '../codes.js';
import { get, query, type Page, type PupilView, type School, type Sessions, type Stats, getAll } from '../api.js';
import { h, summaryList, table, tag } from '../dom.js';
import { cohortLabel, date, FLAG_EXPLANATIONS, flagLabel, num, pct, sessionCount } from '../format.js';
import type { PageContext, PageResult } from '../main.js';

const CATEGORY_LABELS: Record<string, string> = {
  present: 'Present',
  approved_activity: 'Approved educational activity',
  authorised: 'Authorised absence',
  unauthorised: 'Unauthorised absence',
  not_possible: 'Not a possible session',
  administrative: 'Administrative',
  unmarked: 'Not marked',
};

/** Known schools' names (whatever the caller may read); a URN alone where not. */
export async function schoolNames(): Promise<Map<string, string>> {
  const list = await getAll<School>('/v1/schools').catch(() => ({ items: [] as School[] }));
  return new Map(list.items.map((s) => [s.urn, s.name ?? `URN ${s.urn}`]));
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'];
const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

function utc(d: string): Date {
  return new Date(`${d}T00:00:00Z`);
}
function iso(d: Date): string {
  return d.toISOString().slice(0, 10);
}

type Mark = { code: string | null; urn: string };

/**
 * One month per table: rows are weeks, columns Monday to Friday, each day its AM and PM marks, with
 * the code as text and the category as colour; hovering or focusing a day shows the codes, their
 * meaning and the school.
 */
function calendar(sessions: Sessions, names: Map<string, string>): HTMLElement {
  const byDay = new Map<string, { AM: Mark[]; PM: Mark[] }>();
  for (const s of sessions.sessions) {
    const d = byDay.get(s.date) ?? { AM: [], PM: [] };
    d[s.session].push({ code: s.code, urn: s.urn });
    byDay.set(s.date, d);
  }
  const months: HTMLElement[] = [];
  // From the first month with a mark (the year starts on 1 August, the register in September).
  const start = utc(sessions.sessions[0]?.date ?? sessions.from);
  const end = utc(sessions.sessions.at(-1)?.date ?? sessions.to);
  for (
    let m = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1));
    m <= end;
    m = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1))
  ) {
    const last = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 0));
    const weeks: Array<Array<string | null>> = [];
    let week: Array<string | null> = [null, null, null, null, null];
    for (let d = new Date(m); d <= last; d = new Date(d.getTime() + 86_400_000)) {
      const wd = d.getUTCDay();
      if (wd === 0 || wd === 6) {
        if (wd === 0 && week.some(Boolean)) {
          weeks.push(week);
          week = [null, null, null, null, null];
        }
        continue;
      }
      week[wd - 1] = iso(d);
    }
    if (week.some(Boolean)) weeks.push(week);
    const cell = (day: string | null) => {
      if (!day) return h('td', { class: 'govuk-table__cell app-cal__day app-cal__day--none' });
      const marks = byDay.get(day);
      const dayNo = Number(day.slice(8));
      if (!marks)
        return h(
          'td',
          { class: 'govuk-table__cell app-cal__day app-cal__day--empty' },
          h('span', { class: 'app-cal__date' }, dayNo),
        );
      const half = (session: 'AM' | 'PM') => {
        const list = marks[session];
        const m = list[0];
        const cat = m ? (m.code ? (categoryOf(m.code) ?? 'unmarked') : 'unmarked') : 'none';
        return h(
          'span',
          { class: `app-cal__mark app-cal__mark--${cat}`, 'data-session': session },
          m ? (m.code ?? '–') : '',
        );
      };
      const describe = (session: 'AM' | 'PM') =>
        marks[session]
          .map(
            (m) =>
              `${session} ${m.code ?? 'not marked'}${m.code ? ` (${CATEGORY_LABELS[categoryOf(m.code) ?? 'unmarked']})` : ''} at ${names.get(m.urn) ?? `URN ${m.urn}`}`,
          )
          .join('; ');
      const label = `${date(day)}: ${[describe('AM'), describe('PM')].filter(Boolean).join('; ')}`;
      return h(
        'td',
        { class: 'govuk-table__cell app-cal__day', tabindex: '0', 'data-date': day, 'aria-label': label },
        h('span', { class: 'app-cal__date', 'aria-hidden': 'true' }, dayNo),
        h('span', { class: 'app-cal__marks', 'aria-hidden': 'true' }, half('AM'), half('PM')),
        h('span', { class: 'app-cal__tip', role: 'tooltip', 'aria-hidden': 'true' }, label),
      );
    };
    months.push(
      h(
        'table',
        { class: 'govuk-table app-cal' },
        h(
          'caption',
          { class: 'govuk-table__caption govuk-table__caption--s' },
          `${MONTH_NAMES[m.getUTCMonth()]} ${m.getUTCFullYear()}`,
        ),
        h(
          'thead',
          { class: 'govuk-table__head' },
          h(
            'tr',
            { class: 'govuk-table__row' },
            WEEKDAYS.map((w) => h('th', { scope: 'col', class: 'govuk-table__header' }, w)),
          ),
        ),
        h(
          'tbody',
          { class: 'govuk-table__body' },
          weeks.map((w) => h('tr', { class: 'govuk-table__row' }, w.map(cell))),
        ),
      ),
    );
  }
  const legend = h(
    'ul',
    { class: 'govuk-list app-cal__legend', 'aria-label': 'Key' },
    ['present', 'approved_activity', 'authorised', 'unauthorised', 'not_possible', 'unmarked'].map((c) =>
      h(
        'li',
        null,
        h('span', { class: `app-cal__mark app-cal__mark--${c}`, 'aria-hidden': 'true' }, '\u00a0'),
        ' ',
        CATEGORY_LABELS[c],
      ),
    ),
  );
  return h(
    'div',
    { class: 'app-cal-wrap' },
    legend,
    h(
      'p',
      { class: 'govuk-body-s' },
      'Each day shows its morning (AM) and afternoon (PM) marks. Hover over or tab to a day for the codes and the school.',
    ),
    h('div', { class: 'app-cal__months' }, months),
  );
}

function statsRows(s: Stats): Array<[string, string]> {
  return [
    ['Attendance', pct(s.attendanceRate)],
    ['Absence', `${pct(s.absenceRate)} (${num(s.absenceSessions)} of ${sessionCount(s.possibleSessions)})`],
    ['Authorised absence', pct(s.authorisedAbsenceRate)],
    ['Unauthorised absence', `${pct(s.unauthorisedAbsenceRate)} (${sessionCount(s.unauthorisedAbsenceSessions)})`],
    ['Late', sessionCount(s.lateSessions)],
  ];
}

export async function pupilPage(ctx: PageContext): Promise<PageResult> {
  const upn = ctx.params[0];
  const [pupil, names] = await Promise.all([get<PupilView>(`/v1/pupils/${encodeURIComponent(upn)}`), schoolNames()]);
  const sessions = await get<Sessions>(
    `/v1/pupils/${encodeURIComponent(upn)}/sessions${query({ from: ctx.query.get('from'), to: ctx.query.get('to') })}`,
  );
  const referrals =
    ctx.session.role === 'la_officer' || ctx.session.role === 'school' || ctx.session.role === 'vsh'
      ? await get<Page<{ id: string; type: string; status: string; urn: string; createdAt?: string; dueAt?: string }>>(
          `/v1/referrals${query({ upn })}`,
        ).catch(() => undefined)
      : undefined;
  const name = [pupil.forename, pupil.surname].filter(Boolean).join(' ') || pupil.upn;
  return {
    title: name,
    body: [
      h('span', { class: 'govuk-caption-l' }, `UPN ${pupil.upn}${pupil.yearGroup ? ` · Year ${pupil.yearGroup}` : ''}`),
      h('h1', { class: 'govuk-heading-l' }, name),
      h(
        'p',
        { class: 'govuk-body' },
        pupil.severeAbsence
          ? tag('Severely absent', 'red')
          : pupil.persistentAbsence
            ? tag('Persistently absent', 'orange')
            : tag('Not persistently absent', 'green'),
        pupil.lookedAfter ? [' ', tag('Looked after by the LA', 'purple')] : null,
        ' ',
        pupil.cohorts.length ? `Cohorts: ${pupil.cohorts.map(cohortLabel).join(', ')}` : '',
      ),
      h(
        'div',
        { class: 'govuk-grid-row' },
        h(
          'div',
          { class: 'govuk-grid-column-one-half' },
          // A school is given only its own enrolment's figures (docs/security.md), so say so.
          h(
            'h2',
            { class: 'govuk-heading-m' },
            `${ctx.session.role === 'school' ? 'At your school' : 'Across all schools'}, ${pupil.academicYear}/${String(pupil.academicYear + 1).slice(2)}`,
          ),
          summaryList(statsRows(pupil.totals)),
        ),
        h(
          'div',
          { class: 'govuk-grid-column-one-half' },
          h('h2', { class: 'govuk-heading-m' }, 'Flags'),
          pupil.flags.length
            ? h(
                'ul',
                { class: 'govuk-list app-flags' },
                pupil.flags.map((f) =>
                  h(
                    'li',
                    null,
                    h('strong', null, flagLabel(f.type)),
                    ` since ${date(f.since)}. `,
                    h('span', { class: 'govuk-body-s' }, FLAG_EXPLANATIONS[f.type] ?? ''),
                  ),
                ),
              )
            : h('p', { class: 'govuk-body' }, 'No flags.'),
        ),
      ),
      h(
        'div',
        { class: 'app-scroll' },
        table(
          'Figures by school',
          [
            {
              header: 'School',
              cell: (e) =>
                ctx.session.role === 'la_officer'
                  ? h('a', { class: 'govuk-link', href: `#/schools/${e.urn}` }, names.get(e.urn) ?? `URN ${e.urn}`)
                  : (names.get(e.urn) ?? `URN ${e.urn}`),
            },
            {
              header: 'Registration',
              cell: (e) =>
                (({ C: 'Sole', M: 'Dual (main)', S: 'Dual (subsidiary)' }) as Record<string, string>)[e.registration] ??
                e.registration,
            },
            { header: 'Admitted', cell: (e) => date(e.admissionDate) },
            { header: 'Left', cell: (e) => date(e.leavingDate) },
            { header: 'Possible sessions', cell: (e) => num(e.stats.possibleSessions), numeric: true },
            { header: 'Attendance', cell: (e) => pct(e.stats.attendanceRate), numeric: true },
            { header: 'Absence', cell: (e) => pct(e.stats.absenceRate), numeric: true },
            { header: 'Unauthorised', cell: (e) => pct(e.stats.unauthorisedAbsenceRate), numeric: true },
          ],
          pupil.enrolments,
        ),
      ),
      pupil.partTimeTimetables?.length
        ? [
            h('h2', { class: 'govuk-heading-m' }, 'Part-time timetables'),
            table(
              'Part-time timetables (C2)',
              [
                { header: 'School', cell: (t) => names.get(t.urn) ?? `URN ${t.urn}` },
                { header: 'Started', cell: (t) => date(t.start) },
                { header: 'Latest C2', cell: (t) => date(t.latest) },
                { header: 'School weeks', cell: (t) => num(t.weeks), numeric: true },
                { header: 'C2 sessions a week', cell: (t) => t.sessionsPerWeek.toFixed(1), numeric: true },
                { header: 'Running', cell: (t) => (t.current ? 'Yes' : 'Ended') },
                {
                  header: 'Review',
                  cell: (t) =>
                    t.pastReviewLimit ? tag('Past the review limit', 'red') : tag('Within the review limit', 'green'),
                },
              ],
              pupil.partTimeTimetables,
              { captionClass: 'govuk-visually-hidden' },
            ),
          ]
        : null,
      h('h2', { class: 'govuk-heading-m' }, 'Marks'),
      calendar(sessions, names),
      referrals
        ? [
            h('h2', { class: 'govuk-heading-m' }, 'Referrals'),
            referrals.items.length
              ? table(
                  'Referrals',
                  [
                    { header: 'Case', cell: (r) => h('a', { class: 'govuk-link', href: `#/cases/${r.id}` }, r.id) },
                    { header: 'Type', cell: (r) => r.type.replace(/_/g, ' ') },
                    { header: 'Status', cell: (r) => r.status.replace(/_/g, ' ') },
                    { header: 'School', cell: (r) => names.get(r.urn) ?? r.urn },
                    { header: 'Opened', cell: (r) => date(r.createdAt) },
                  ],
                  referrals.items,
                  { captionClass: 'govuk-visually-hidden' },
                )
              : h('p', { class: 'govuk-body' }, 'No referrals.'),
            h(
              'a',
              {
                class: 'govuk-button govuk-button--secondary',
                href: `#/cases/new?upn=${encodeURIComponent(pupil.upn)}`,
                role: 'button',
                draggable: 'false',
              },
              'Open a case',
            ),
          ]
        : null,
    ],
  };
}
