/**
 * The LA's other attendance duties (issue 20; docs/duties.md): notification timeliness, new entries
 * and deletions, children missing education, part-time timetables, social-worker absences and a
 * school's looked-after pupils. Each page is one API list with its filters and its CSV; the tabs a
 * role sees are the routes it may read (a school its own, LA officers every school, the VSH the
 * social-worker absences).
 */
import { downloadCsv, get, query, type Page, type School, getAll } from '../api.js';
import type { Role } from '../auth.js';
import { h, table, tag, type Child, countColumn, filterForm } from '../dom.js';
import { date, num, pct } from '../format.js';
import type { PageContext, PageResult } from '../main.js';

const PAGE_SIZE = 200;

type Timeliness = 'on_time' | 'late' | 'exempt' | 'unknown';
interface Figure {
  total: number;
  onTime: number;
  late: number;
  exempt: number;
  unknown: number;
  onTimeRate: number | null;
}
interface SchoolTimeliness {
  urn: string;
  schoolName: string | null;
  entries: Figure;
  deletions: Figure;
  all: Figure;
}
interface PupilFields {
  upn: string;
  forename: string | null;
  surname: string | null;
  yearGroup: string | null;
  urn: string;
  schoolName: string | null;
}
interface NewEntry extends PupilFields {
  entryDate: string;
  source: 'stated' | 'derived';
  notifiedOn: string | null;
  schoolDaysToNotice: number | null;
  timeliness: Timeliness;
}
interface CmeStatus {
  status: string;
  flagged: boolean;
  listingDeadline: string | null;
  listedBy: string | null;
  schoolDaysToListing: number | null;
}
interface Deletion extends PupilFields {
  leavingDate: string;
  source: 'stated' | 'derived';
  ground: string | null;
  destination: string | null;
  notifiedOn: string | null;
  standardTransition: boolean;
  timeliness: Timeliness;
  cme: CmeStatus | null;
}
interface Cme extends Deletion {
  hasOpenReferral: boolean;
  suggestedReferralType: string | null;
}
interface PartTime extends PupilFields {
  start: string;
  latest: string;
  weeks: number;
  c2Sessions: number;
  sessionsLatestWeek: number;
  sessionsPerWeek: number;
  current: boolean;
  pastReviewLimit: boolean;
}
interface SocialWorkerAbsence extends PupilFields {
  alertKey: string;
  date: string;
  session: 'AM' | 'PM';
  code: string | null;
  reason: string;
  cohorts: string[];
}
interface LookedAfterPupil {
  upn: string;
  forename: string | null;
  surname: string | null;
  yearGroup: string | null;
}

type Tab = 'timeliness' | 'entries' | 'deletions' | 'cme' | 'part-time' | 'social-worker' | 'looked-after';

const TABS: Array<{ id: Tab; href: string; text: string; roles: readonly Role[] }> = [
  { id: 'timeliness', href: '#/duties', text: 'Notifications', roles: ['la_officer', 'school'] },
  { id: 'entries', href: '#/duties/entries', text: 'New entries', roles: ['la_officer', 'school'] },
  { id: 'deletions', href: '#/duties/deletions', text: 'Deletions', roles: ['la_officer', 'school'] },
  { id: 'cme', href: '#/duties/cme', text: 'Children missing education', roles: ['la_officer'] },
  { id: 'part-time', href: '#/duties/part-time', text: 'Part-time timetables', roles: ['la_officer', 'school'] },
  { id: 'social-worker', href: '#/duties/social-worker', text: 'Social-worker absences', roles: ['la_officer', 'vsh'] },
  { id: 'looked-after', href: '#/duties/looked-after', text: 'Looked-after pupils', roles: ['school'] },
];

function tabs(role: Role, active: Tab): HTMLElement {
  const item = (t: (typeof TABS)[number]) =>
    h(
      'li',
      { class: 'govuk-service-navigation__item' + (active === t.id ? ' govuk-service-navigation__item--active' : '') },
      h('a', { class: 'govuk-link', href: t.href, 'aria-current': active === t.id ? 'page' : undefined }, t.text),
    );
  return h(
    'nav',
    { class: 'app-subnav', 'aria-label': 'Duties' },
    h('ul', { class: 'govuk-list app-subnav__list' }, TABS.filter((t) => t.roles.includes(role)).map(item)),
  );
}

function field(id: string, label: string, control: HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'govuk-form-group app-filters__item' },
    h('label', { class: 'govuk-label', for: id }, label),
    control,
  );
}

function select(id: string, options: Array<[string, string]>, value: string | undefined): HTMLSelectElement {
  return h(
    'select',
    { class: 'govuk-select', id, name: id },
    options.map(([v, t]) => h('option', { value: v, selected: v === (value ?? '') }, t)),
  );
}

/** A filter form: its named controls become the page's query. */
function filters(ctx: PageContext, controls: Array<HTMLElement | null>): HTMLElement {
  return filterForm(
    (q) => ctx.setQuery(q),
    ...controls,
    h('div', { class: 'app-filters__item' }, h('button', { type: 'submit', class: 'govuk-button' }, 'Apply filters')),
  );
}

async function schoolOptions(ctx: PageContext): Promise<Array<[string, string]> | undefined> {
  if (ctx.session.role !== 'la_officer') return undefined;
  const schools = await getAll<School>('/v1/schools');
  return [
    ['', 'All schools'],
    ...schools.items
      .filter((s) => !s.outOfArea)
      .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''))
      .map((s): [string, string] => [s.urn, s.name ?? s.urn]),
  ];
}

const name = (p: { upn: string; forename: string | null; surname: string | null }) =>
  [p.forename, p.surname].filter(Boolean).join(' ') || p.upn;
const pupilLink = (p: { upn: string; forename: string | null; surname: string | null }) =>
  h('a', { class: 'govuk-link', href: `#/pupils/${p.upn}` }, name(p));
const schoolCell = (p: { urn: string; schoolName: string | null }) => p.schoolName ?? `URN ${p.urn}`;

const TIMELINESS: Record<Timeliness, [string, 'green' | 'red' | 'grey' | 'blue']> = {
  on_time: ['On time', 'green'],
  late: ['Late', 'red'],
  exempt: ['Exempt', 'blue'],
  unknown: ['Not known', 'grey'],
};
const timelinessTag = (t: Timeliness) => tag(TIMELINESS[t][0], TIMELINESS[t][1]);
const TIMELINESS_OPTIONS: Array<[string, string]> = [
  ['', 'Any'],
  ['on_time', 'On time'],
  ['late', 'Late'],
  ['exempt', 'Exempt'],
  ['unknown', 'Not known'],
];

const DESTINATIONS: Record<string, string> = {
  elective_home_education: 'Elective home education',
  another_country: 'Another country',
  unknown: 'Unknown',
};
const destination = (d: string | null) => (d === null ? 'Not stated' : (DESTINATIONS[d] ?? `URN ${d}`));
const words = (s: string | null) => (s === null ? '–' : s.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()));

const CME_STATUS: Record<string, [string, 'red' | 'orange' | 'green' | 'grey' | 'blue' | 'yellow']> = {
  missing: ['Missing education', 'red'],
  confirm_with_other_la: ['Confirm with the other LA', 'orange'],
  awaiting: ['Awaiting new school', 'yellow'],
  listed: ['On a roll', 'green'],
  elective_home_education: ['Home education', 'blue'],
  another_country: ['Another country', 'blue'],
  standard_transition: ['Standard transition', 'grey'],
  not_compulsory_school_age: ['Not compulsory age', 'grey'],
};
const cmeTag = (c: CmeStatus | null) => (c ? tag(...(CME_STATUS[c.status] ?? [words(c.status), 'grey'])) : '–');

function totalLine(total: number, noun: [string, string], extra = ''): HTMLElement {
  return h('p', { class: 'govuk-body', role: 'status' }, `${num(total)} ${total === 1 ? noun[0] : noun[1]}${extra}.`);
}

function csvButton(path: string, file: string): HTMLElement {
  return h(
    'button',
    { type: 'button', class: 'govuk-button govuk-button--secondary', onclick: () => void downloadCsv(path, file) },
    'Download CSV',
  );
}

function frame(ctx: PageContext, active: Tab, title: string, intro: string, body: Child[]): PageResult {
  return {
    title,
    body: [
      h('span', { class: 'govuk-caption-l' }, 'Duties'),
      h('h1', { class: 'govuk-heading-l' }, title),
      tabs(ctx.session.role, active),
      h('p', { class: 'govuk-body' }, intro),
      ...body,
    ],
  };
}

// ---- Pages --------------------------------------------------------------------------------------------

/** `#/duties`: per school, entries notified within five school days and deletions by the leaving date. */
export async function dutiesPage(ctx: PageContext): Promise<PageResult> {
  if (ctx.session.role === 'vsh') return socialWorkerAbsencesPage(ctx);
  const res = await get<{ academicYear: number; items: SchoolTimeliness[] }>('/v1/admission-register/timeliness');
  const cell = (f: Figure) => `${num(f.onTime)} of ${num(f.onTime + f.late)}`;
  return frame(
    ctx,
    'timeliness',
    'Notifications to the LA',
    'New entries are due within five school days of admission; deletions by the day the pupil leaves the register. Exempt: standard transitions. Not known: no notice recorded.',
    [
      totalLine(
        res.items.length,
        ['school', 'schools'],
        `, ${res.academicYear}/${String(res.academicYear + 1).slice(2)}`,
      ),
      csvButton('/v1/admission-register/timeliness', 'notification-timeliness.csv'),
      res.items.length
        ? h(
            'div',
            { class: 'app-scroll' },
            table<SchoolTimeliness>(
              'Notification timeliness by school',
              [
                {
                  header: 'School',
                  cell: (s) =>
                    ctx.session.role === 'la_officer'
                      ? h('a', { class: 'govuk-link', href: `#/duties/deletions?urn=${s.urn}` }, schoolCell(s))
                      : schoolCell(s),
                },
                {
                  header: 'New entries on time',
                  cell: (s) => cell(s.entries),
                  numeric: true,
                  sort: (s) => s.entries.onTime,
                },
                countColumn('Entries late', (s) => s.entries.late),
                {
                  header: 'Deletions on time',
                  cell: (s) => cell(s.deletions),
                  numeric: true,
                  sort: (s) => s.deletions.onTime,
                },
                countColumn('Deletions late', (s) => s.deletions.late),
                countColumn('Exempt', (s) => s.deletions.exempt),
                { header: 'On time', cell: (s) => pct(s.all.onTimeRate), numeric: true, sort: (s) => s.all.onTimeRate },
              ],
              res.items,
              { captionClass: 'govuk-visually-hidden', initialSort: { column: 6 } },
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No returns this year yet.'),
    ],
  );
}

export async function newEntriesPage(ctx: PageContext): Promise<PageResult> {
  const f = { urn: ctx.query.get('urn') ?? undefined, timeliness: ctx.query.get('timeliness') ?? undefined };
  const [res, schools] = await Promise.all([
    get<Page<NewEntry>>(`/v1/admission-register/entries${query({ ...f, limit: PAGE_SIZE })}`),
    schoolOptions(ctx),
  ]);
  return frame(
    ctx,
    'entries',
    'New entries',
    'Pupils admitted this year, by school and date: stated (an admission date) or derived (first listed), and whether the LA was told within five school days.',
    [
      filters(ctx, [
        schools ? field('urn', 'School', select('urn', schools, f.urn)) : null,
        field('timeliness', 'Timing', select('timeliness', TIMELINESS_OPTIONS, f.timeliness)),
      ]),
      totalLine(res.total ?? res.items.length, ['new entry', 'new entries']),
      csvButton(`/v1/admission-register/entries${query(f)}`, 'new-entries.csv'),
      res.items.length
        ? h(
            'div',
            { class: 'app-scroll' },
            table<NewEntry>(
              'New entries',
              [
                { header: 'Pupil', cell: pupilLink },
                { header: 'Year', cell: (e) => e.yearGroup ?? '–' },
                { header: 'School', cell: schoolCell },
                { header: 'Admitted', cell: (e) => date(e.entryDate), sort: (e) => e.entryDate },
                { header: 'Source', cell: (e) => (e.source === 'stated' ? 'Admission date' : 'First listed') },
                { header: 'Notified', cell: (e) => date(e.notifiedOn), sort: (e) => e.notifiedOn },
                countColumn('School days', (e) => e.schoolDaysToNotice),
                { header: 'Timing', cell: (e) => timelinessTag(e.timeliness), sort: (e) => e.timeliness },
              ],
              res.items,
              { captionClass: 'govuk-visually-hidden' },
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No new entries match.'),
    ],
  );
}

export async function deletionsPage(ctx: PageContext): Promise<PageResult> {
  const f = { urn: ctx.query.get('urn') ?? undefined, timeliness: ctx.query.get('timeliness') ?? undefined };
  const [res, schools] = await Promise.all([
    get<Page<Deletion>>(`/v1/admission-register/deletions${query({ ...f, limit: PAGE_SIZE })}`),
    schoolOptions(ctx),
  ]);
  const isLa = ctx.session.role === 'la_officer';
  return frame(
    ctx,
    'deletions',
    'Deletions',
    'Pupils taken off the admission register this year, with the ground and destination the school gave, and whether the LA was told by the leaving date.',
    [
      filters(ctx, [
        schools ? field('urn', 'School', select('urn', schools, f.urn)) : null,
        field('timeliness', 'Timing', select('timeliness', TIMELINESS_OPTIONS, f.timeliness)),
      ]),
      totalLine(res.total ?? res.items.length, ['deletion', 'deletions']),
      csvButton(`/v1/admission-register/deletions${query(f)}`, 'deletions.csv'),
      res.items.length
        ? h(
            'div',
            { class: 'app-scroll' },
            table<Deletion>(
              'Deletions',
              [
                { header: 'Pupil', cell: pupilLink },
                { header: 'Year', cell: (d) => d.yearGroup ?? '–' },
                { header: 'School', cell: schoolCell },
                { header: 'Left', cell: (d) => date(d.leavingDate), sort: (d) => d.leavingDate },
                { header: 'Ground', cell: (d) => (d.source === 'derived' ? 'Stopped being listed' : words(d.ground)) },
                { header: 'Destination', cell: (d) => destination(d.destination) },
                { header: 'Notified', cell: (d) => date(d.notifiedOn), sort: (d) => d.notifiedOn },
                { header: 'Timing', cell: (d) => timelinessTag(d.timeliness), sort: (d) => d.timeliness },
                ...(isLa ? [{ header: 'Where now', cell: (d: Deletion) => cmeTag(d.cme) }] : []),
              ],
              res.items,
              { captionClass: 'govuk-visually-hidden' },
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No deletions match.'),
    ],
  );
}

export async function childrenMissingEducationPage(ctx: PageContext): Promise<PageResult> {
  const f = { status: ctx.query.get('status') ?? undefined, urn: ctx.query.get('urn') ?? undefined };
  const [res, schools] = await Promise.all([
    get<Page<Cme>>(`/v1/children-missing-education${query({ ...f, limit: PAGE_SIZE })}`),
    schoolOptions(ctx),
  ]);
  const statuses: Array<[string, string]> = [
    ['', 'Missing, and to confirm with another LA'],
    ...Object.entries(CME_STATUS).map(([k, [t]]): [string, string] => [k, t]),
  ];
  return frame(
    ctx,
    'cme',
    'Children missing education',
    'Compulsory-age children deleted to an unknown destination, or not on their new school’s roll in the LA within ten school days. Cleared as soon as any school lists the child.',
    [
      filters(ctx, [
        field('status', 'Status', select('status', statuses, f.status)),
        schools ? field('urn', 'Deleting school', select('urn', schools, f.urn)) : null,
      ]),
      totalLine(res.total ?? res.items.length, ['child', 'children']),
      csvButton(`/v1/children-missing-education${query(f)}`, 'children-missing-education.csv'),
      res.items.length
        ? h(
            'div',
            { class: 'app-scroll' },
            table<Cme>(
              'Children missing education',
              [
                { header: 'Pupil', cell: pupilLink },
                { header: 'Year', cell: (d) => d.yearGroup ?? '–' },
                { header: 'Deleted by', cell: schoolCell },
                { header: 'Left', cell: (d) => date(d.leavingDate), sort: (d) => d.leavingDate },
                { header: 'Destination', cell: (d) => destination(d.destination) },
                { header: 'Status', cell: (d) => cmeTag(d.cme) },
                { header: 'Listing due by', cell: (d) => date(d.cme?.listingDeadline) },
                {
                  header: 'Case',
                  cell: (d) =>
                    d.suggestedReferralType
                      ? h(
                          'a',
                          {
                            class: 'govuk-link',
                            href: `#/cases/new${query({ upn: d.upn, type: d.suggestedReferralType })}`,
                          },
                          'Open a case',
                          h('span', { class: 'govuk-visually-hidden' }, ` for ${name(d)}`),
                        )
                      : d.hasOpenReferral
                        ? 'Open'
                        : '–',
                },
              ],
              res.items,
              { captionClass: 'govuk-visually-hidden' },
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No children match.'),
    ],
  );
}

export async function partTimeTimetablesPage(ctx: PageContext): Promise<PageResult> {
  const f = {
    urn: ctx.query.get('urn') ?? undefined,
    pastReviewLimit: ctx.query.get('pastReviewLimit') ?? undefined,
    current: ctx.query.get('current') ?? undefined,
  };
  const [res, schools] = await Promise.all([
    get<Page<PartTime> & { reviewWeeks: number }>(`/v1/part-time-timetables${query({ ...f, limit: PAGE_SIZE })}`),
    schoolOptions(ctx),
  ]);
  return frame(
    ctx,
    'part-time',
    'Part-time timetables',
    `Pupils with C2 sessions: when the timetable started, how many sessions a week, and how many school weeks so far. Past the review limit after ${res.reviewWeeks} school weeks.`,
    [
      filters(ctx, [
        schools ? field('urn', 'School', select('urn', schools, f.urn)) : null,
        field(
          'pastReviewLimit',
          'Review',
          select(
            'pastReviewLimit',
            [
              ['', 'Any'],
              ['true', 'Past the review limit'],
              ['false', 'Within the limit'],
            ],
            f.pastReviewLimit,
          ),
        ),
        field(
          'current',
          'Running',
          select(
            'current',
            [
              ['', 'Any'],
              ['true', 'Still running'],
              ['false', 'Ended'],
            ],
            f.current,
          ),
        ),
      ]),
      totalLine(res.total ?? res.items.length, ['pupil', 'pupils'], ', longest first'),
      csvButton(`/v1/part-time-timetables${query(f)}`, 'part-time-timetables.csv'),
      res.items.length
        ? h(
            'div',
            { class: 'app-scroll' },
            table<PartTime>(
              'Part-time timetables',
              [
                { header: 'Pupil', cell: pupilLink },
                { header: 'Year', cell: (t) => t.yearGroup ?? '–' },
                { header: 'School', cell: schoolCell },
                { header: 'Started', cell: (t) => date(t.start), sort: (t) => t.start },
                { header: 'Latest C2', cell: (t) => date(t.latest), sort: (t) => t.latest },
                { header: 'School weeks', cell: (t) => num(t.weeks), numeric: true, sort: (t) => t.weeks },
                {
                  header: 'C2 sessions a week',
                  cell: (t) => t.sessionsPerWeek.toFixed(1),
                  numeric: true,
                  sort: (t) => t.sessionsPerWeek,
                },
                { header: 'Running', cell: (t) => (t.current ? 'Yes' : 'Ended') },
                {
                  header: 'Review',
                  cell: (t) => (t.pastReviewLimit ? tag('Past the limit', 'red') : tag('Within the limit', 'green')),
                },
              ],
              res.items,
              { captionClass: 'govuk-visually-hidden' },
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No part-time timetables match.'),
    ],
  );
}

export async function socialWorkerAbsencesPage(ctx: PageContext): Promise<PageResult> {
  const f = { date: ctx.query.get('date') ?? undefined };
  const res = await get<Page<SocialWorkerAbsence> & { date: string }>(
    `/v1/social-worker-absences${query({ ...f, limit: PAGE_SIZE })}`,
  );
  return frame(
    ctx,
    'social-worker',
    'Social-worker absences',
    'Children in need and on child protection plans who were absent with no reason known (O), or not marked, on a school day: for the social worker to hear of.',
    [
      filters(ctx, [
        field(
          'date',
          'Day',
          h('input', { class: 'govuk-input', type: 'date', id: 'date', name: 'date', value: res.date }),
        ),
      ]),
      totalLine(res.total ?? res.items.length, ['session', 'sessions'], ` on ${date(res.date)}`),
      csvButton(`/v1/social-worker-absences${query({ date: res.date })}`, `social-worker-absences-${res.date}.csv`),
      res.items.length
        ? h(
            'div',
            { class: 'app-scroll' },
            table<SocialWorkerAbsence>(
              'Unexplained absences of children with a social worker',
              [
                { header: 'Pupil', cell: pupilLink },
                { header: 'Year', cell: (a) => a.yearGroup ?? '–' },
                { header: 'School', cell: schoolCell },
                { header: 'Session', cell: (a) => a.session },
                { header: 'Mark', cell: (a) => (a.code === null ? 'Not marked' : `${a.code} (no reason known)`) },
                {
                  header: 'Cohort',
                  cell: (a) =>
                    a.cohorts
                      .map(
                        (c) =>
                          (
                            ({ cin: 'Child in need', cpp: 'Child protection plan', cla: 'Looked after' }) as Record<
                              string,
                              string
                            >
                          )[c] ?? c,
                      )
                      .join(', '),
                },
              ],
              res.items,
              { captionClass: 'govuk-visually-hidden' },
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No unexplained absences that day.'),
    ],
  );
}

export async function lookedAfterPupilsPage(ctx: PageContext): Promise<PageResult> {
  const urn = ctx.session.urn ?? '';
  const res = await get<{ urn: string; date: string; items: LookedAfterPupil[] }>(
    `/v1/schools/${encodeURIComponent(urn)}/looked-after-pupils`,
  );
  return frame(
    ctx,
    'looked-after',
    'Looked-after pupils',
    `The pupils on your roll whom the LA looks after, by its own lists on ${date(res.date)}. Speak to the Virtual School for anything more.`,
    [
      totalLine(res.items.length, ['pupil', 'pupils']),
      csvButton(`/v1/schools/${encodeURIComponent(urn)}/looked-after-pupils`, `looked-after-pupils-${urn}.csv`),
      res.items.length
        ? table<LookedAfterPupil>(
            'Looked-after pupils',
            [
              { header: 'Pupil', cell: pupilLink },
              { header: 'UPN', cell: (p) => p.upn },
              { header: 'Year', cell: (p) => p.yearGroup ?? '–' },
            ],
            res.items,
            { captionClass: 'govuk-visually-hidden' },
          )
        : h('p', { class: 'govuk-body' }, 'The LA looks after none of your pupils today.'),
    ],
  );
}
