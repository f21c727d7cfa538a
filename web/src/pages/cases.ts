/**
 * Referral casework (issue 19): the queue by status with owner, due date and overdue marking; the
 * suggestions (pupils whose flags call for a case and who have none open); a new case from a
 * suggestion or a pupil page; a case with its evidence, timeline and the actions its state allows.
 *
 * Every change sends the version read as If-Match. A 412 (someone changed the case first) is
 * explained and resolved by reloading the case: the app never re-sends over someone else's change.
 */
import { ApiError, downloadCsv, get, query, send, type Page, type PupilView } from '../api.js';
import { errorSummary, h, nextPage, summaryList, table, tag, type Child, filterForm } from '../dom.js';
import { date, dateTime, FLAG_EXPLANATIONS, flagLabel, num, pct } from '../format.js';
import type { PageContext, PageResult } from '../main.js';
import { schoolNames } from './pupil.js';
import {
  ACTION_LABELS,
  OUTCOME_LABELS,
  PRIORITY_LABELS,
  STATUS_COLOURS,
  STATUS_LABELS,
  TYPE_LABELS,
} from '../referral-labels.js';

/** Actions recorded from the case page (notices to parents need a named parent: see below). */
const SIMPLE_ACTIONS = [
  'letter',
  'meeting',
  'attendance_contract',
  'parenting_contract',
  'notice_to_improve',
  'education_supervision_order',
  'prosecution',
];
interface CaseListItem {
  id: string;
  upn: string;
  urn: string;
  type: string;
  status: string;
  priority: string;
  assignee: string | null;
  reason: string;
  forename: string | null;
  surname: string | null;
  createdAt: string;
  updatedAt: string;
  triageDueOn: string;
  triagedAt: string | null;
  closedAt: string | null;
  outcome: string | null;
  overdue: boolean;
  version: number;
}
interface Actor {
  sub: string;
  role: string;
  urn?: string;
}
interface CaseAction {
  id: string;
  type: string;
  date: string;
  recordedAt: string;
  recordedBy: Actor;
  notes?: string;
  parentId?: string;
}
interface CaseEvent {
  seq: number;
  at: string;
  by: Actor;
  kind: string;
  changes: Array<{ field: string; from: unknown; to: unknown }>;
  action?: CaseAction;
  note?: string;
}
interface Case extends Omit<CaseListItem, 'forename' | 'surname' | 'outcome'> {
  parents: Array<{ id: string; name: string; relationship: string }>;
  evidence: {
    takenAt: string;
    academicYear: number;
    pupil: { forename: string | null; surname: string | null; dob: string | null; yearGroup: string | null };
    cohorts: string[];
    totals: PupilView['totals'];
    persistentAbsence: boolean;
    severeAbsence: boolean;
    enrolments: Array<{ urn: string; stats: PupilView['totals']; persistentAbsence: boolean; severeAbsence: boolean }>;
    flags: Array<{ type: string; since: string; detail: Record<string, unknown> }>;
    thresholdWindow: Record<string, unknown> | null;
  };
  actions: CaseAction[];
  outcome: { type: string; summary?: string; date: string } | null;
  createdBy: Actor;
  withdrawalReason: string | null;
  open: boolean;
  triagedLate: boolean | null;
  allowedTransitions: string[];
  noticesToImprove: Array<{
    actionId: string;
    startDate: string;
    periodDays: number;
    evaluation: { status: string; lastDay: string; unauthorisedSessions: Array<Record<string, unknown>> } | null;
  }>;
  events: CaseEvent[];
}
interface Suggestion {
  upn: string;
  forename: string | null;
  surname: string | null;
  yearGroup: string | null;
  urns: string[];
  suggestedType: string;
  reasons: Array<{
    flag: string;
    since: string;
    referralType: string;
    route?: string;
    firstStep?: string;
    why?: string;
  }>;
  ageUnknown: boolean;
  absenceRate: number | null;
  unauthorisedSessions: number;
}

const name = (p: { forename: string | null; surname: string | null }, fallback: string) =>
  [p.forename, p.surname].filter(Boolean).join(' ') || fallback;
const statusTag = (s: string) => tag(STATUS_LABELS[s] ?? s, STATUS_COLOURS[s]);
const who = (a: Actor) =>
  a.role === 'school' ? `School ${a.urn ?? ''}`.trim() : a.role === 'vsh' ? `Virtual School (${a.sub})` : a.sub;

function select(
  id: string,
  label: string,
  options: Array<[string, string]>,
  value: string | null | undefined,
  extra: Child = null,
): HTMLElement {
  return h(
    'div',
    { class: 'govuk-form-group app-filters__item' },
    h('label', { class: 'govuk-label', for: id }, label),
    extra,
    h(
      'select',
      { class: 'govuk-select', id, name: id },
      options.map(([v, t]) => h('option', { value: v, selected: v === (value ?? '') }, t)),
    ),
  );
}

function input(id: string, label: string, value = '', attrs: Record<string, string> = {}): HTMLElement {
  return h(
    'div',
    { class: 'govuk-form-group app-filters__item' },
    h('label', { class: 'govuk-label', for: id }, label),
    h('input', { class: 'govuk-input govuk-input--width-20', id, name: id, value, autocomplete: 'off', ...attrs }),
  );
}

function textarea(id: string, label: string, value = '', hint?: string): HTMLElement {
  return h(
    'div',
    { class: 'govuk-form-group' },
    h('label', { class: 'govuk-label govuk-label--s', for: id }, label),
    hint ? h('div', { class: 'govuk-hint', id: `${id}-hint` }, hint) : null,
    h(
      'textarea',
      { class: 'govuk-textarea', id, name: id, rows: 3, 'aria-describedby': hint ? `${id}-hint` : undefined },
      value,
    ),
  );
}

function casesTabs(active: 'queue' | 'suggestions'): HTMLElement {
  const item = (id: string, href: string, text: string) =>
    h(
      'li',
      { class: 'govuk-service-navigation__item' + (active === id ? ' govuk-service-navigation__item--active' : '') },
      h('a', { class: 'govuk-link', href, 'aria-current': active === id ? 'page' : undefined }, text),
    );
  return h(
    'nav',
    { class: 'app-subnav', 'aria-label': 'Casework' },
    h(
      'ul',
      { class: 'govuk-list app-subnav__list' },
      item('queue', '#/cases', 'Cases'),
      item('suggestions', '#/cases/suggestions', 'Suggestions'),
    ),
  );
}

// ---- The queue ------------------------------------------------------------------------------------

export async function casesPage(ctx: PageContext): Promise<PageResult> {
  const q = ctx.query;
  const filters = {
    status: q.get('status') ?? undefined,
    type: q.get('type') ?? undefined,
    urn: q.get('urn') ?? undefined,
    assignee: q.get('assignee') ?? undefined,
    overdue: q.get('overdue') ?? undefined,
  };
  const [list, names] = await Promise.all([
    get<Page<CaseListItem>>(`/v1/referrals${query({ ...filters, limit: 100, cursor: q.get('cursor') })}`),
    schoolNames(),
  ]);
  const isLa = ctx.session.role === 'la_officer';
  const form = filterForm(
    (q) => ctx.setQuery(q),
    select('status', 'Status', [['', 'Any status'], ...Object.entries(STATUS_LABELS)], filters.status),
    select('type', 'Type', [['', 'Any type'], ...Object.entries(TYPE_LABELS)], filters.type),
    ctx.session.role !== 'school'
      ? select(
          'urn',
          'School',
          [['', 'All schools'], ...[...names].sort((a, b) => a[1].localeCompare(b[1]))],
          filters.urn,
        )
      : null,
    input('assignee', 'Assigned to', filters.assignee ?? ''),
    select(
      'overdue',
      'Overdue',
      [
        ['', 'Either'],
        ['true', 'Overdue only'],
        ['false', 'Not overdue'],
      ],
      filters.overdue,
    ),
    h('div', { class: 'app-filters__item' }, h('button', { type: 'submit', class: 'govuk-button' }, 'Apply filters')),
  );
  const overdue = list.items.filter((c) => c.overdue).length;
  return {
    title: 'Cases',
    body: [
      h('h1', { class: 'govuk-heading-l' }, 'Cases'),
      casesTabs('queue'),
      isLa
        ? h(
            'p',
            { class: 'govuk-body' },
            'Cases to triage are overdue after their triage due date. ',
            h('a', { class: 'govuk-link', href: `#/cases${query({ assignee: ctx.session.sub })}` }, 'Your cases'),
            '.',
          )
        : null,
      form,
      h(
        'p',
        { class: 'govuk-body', role: 'status' },
        `${num(list.items.length)} ${list.items.length === 1 ? 'case' : 'cases'}${list.nextCursor ? ' on this page' : ''}, newest first${overdue ? `; ${overdue} overdue` : ''}.`,
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'govuk-button govuk-button--secondary',
          onclick: () => void downloadCsv(`/v1/referrals${query(filters)}`, 'referrals.csv'),
        },
        'Download CSV',
      ),
      list.items.length
        ? h(
            'div',
            { class: 'app-scroll' },
            table<CaseListItem>(
              'Cases',
              [
                {
                  header: 'Pupil',
                  cell: (c) => h('a', { class: 'govuk-link', href: `#/cases/${c.id}` }, name(c, c.upn)),
                  sort: (c) => name(c, c.upn),
                },
                { header: 'Type', cell: (c) => TYPE_LABELS[c.type] ?? c.type, sort: (c) => c.type },
                {
                  header: 'Status',
                  cell: (c) => [statusTag(c.status), c.overdue ? [' ', tag('Overdue', 'red')] : null],
                  sort: (c) => c.status,
                },
                {
                  header: 'Priority',
                  cell: (c) => PRIORITY_LABELS[c.priority] ?? c.priority,
                  sort: (c) => ['low', 'normal', 'high', 'urgent'].indexOf(c.priority),
                },
                { header: 'Assigned to', cell: (c) => c.assignee ?? 'Not allocated', sort: (c) => c.assignee },
                { header: 'School', cell: (c) => names.get(c.urn) ?? `URN ${c.urn}` },
                { header: 'Opened', cell: (c) => date(c.createdAt), sort: (c) => c.createdAt },
                {
                  header: 'Triage due',
                  cell: (c) =>
                    c.status === 'submitted' ? date(c.triageDueOn) : c.triagedAt ? `Triaged ${date(c.triagedAt)}` : '–',
                  sort: (c) => c.triageDueOn,
                },
              ],
              list.items,
              { captionClass: 'govuk-visually-hidden', rowClass: (c) => (c.overdue ? 'app-row--overdue' : undefined) },
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No cases match.'),
      nextPage(list.nextCursor && `#/cases${query({ ...filters, cursor: list.nextCursor })}`),
    ],
  };
}

// ---- Suggestions ----------------------------------------------------------------------------------

export async function suggestionsPage(ctx: PageContext): Promise<PageResult> {
  const type = ctx.query.get('type') ?? undefined;
  const [list, names] = await Promise.all([
    get<Page<Suggestion>>(`/v1/referrals/suggestions${query({ type, limit: 100, cursor: ctx.query.get('cursor') })}`),
    schoolNames(),
  ]);
  const form = filterForm(
    (q) => ctx.setQuery(q),
    select('type', 'Suggested type', [['', 'Any type'], ...Object.entries(TYPE_LABELS)], type),
    h('div', { class: 'app-filters__item' }, h('button', { type: 'submit', class: 'govuk-button' }, 'Apply filters')),
  );
  const total = list.total ?? list.items.length;
  return {
    title: 'Suggested cases',
    body: [
      h('h1', { class: 'govuk-heading-l' }, 'Suggested cases'),
      casesTabs('suggestions'),
      h('p', { class: 'govuk-body' }, 'Pupils whose flags call for a case and who have no open case, worst first.'),
      form,
      h('p', { class: 'govuk-body', role: 'status' }, `${num(total)} ${total === 1 ? 'suggestion' : 'suggestions'}.`),
      list.items.length
        ? h(
            'div',
            { class: 'app-scroll' },
            table<Suggestion>(
              'Suggestions',
              [
                {
                  header: 'Pupil',
                  cell: (s) => h('a', { class: 'govuk-link', href: `#/pupils/${s.upn}` }, name(s, s.upn)),
                },
                { header: 'Year', cell: (s) => s.yearGroup ?? '–' },
                { header: 'Schools', cell: (s) => s.urns.map((u) => names.get(u) ?? u).join(', ') },
                {
                  header: 'Why',
                  cell: (s) =>
                    h(
                      'ul',
                      { class: 'govuk-list govuk-body-s' },
                      s.reasons.map((r) =>
                        h('li', null, `${flagLabel(r.flag)} since ${date(r.since)}`, r.why ? `: ${r.why}` : ''),
                      ),
                    ),
                },
                { header: 'Absence', cell: (s) => pct(s.absenceRate), numeric: true },
                { header: 'Suggested', cell: (s) => TYPE_LABELS[s.suggestedType] ?? s.suggestedType },
                {
                  header: 'Action',
                  cell: (s) =>
                    h(
                      'a',
                      {
                        class: 'govuk-link',
                        href: `#/cases/new${query({ upn: s.upn, type: s.suggestedType, urn: s.urns[0], why: s.reasons.map((r) => `${flagLabel(r.flag)} since ${date(r.since)}${r.why ? ` (${r.why})` : ''}`).join('; ') })}`,
                      },
                      'Open a case',
                      h('span', { class: 'govuk-visually-hidden' }, ` for ${name(s, s.upn)}`),
                    ),
                },
              ],
              list.items,
              { captionClass: 'govuk-visually-hidden' },
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No suggestions.'),
      nextPage(list.nextCursor && `#/cases/suggestions${query({ type, cursor: list.nextCursor })}`),
    ],
  };
}

// ---- A new case -----------------------------------------------------------------------------------

function problemList(err: unknown): Array<{ text: string; href?: string }> {
  if (err instanceof ApiError) {
    const fields = err.errors.map((e) => ({
      text: `${e.field ? `${e.field}: ` : ''}${e.message}`,
      href: e.field && ['reason', 'urn', 'type', 'assignee'].includes(e.field) ? `#${e.field}` : undefined,
    }));
    return [{ text: err.detail ?? err.title }, ...fields];
  }
  return [{ text: String((err as Error).message ?? err) }];
}

export async function newCasePage(ctx: PageContext): Promise<PageResult> {
  const upn = ctx.query.get('upn') ?? '';
  const [pupil, names] = await Promise.all([get<PupilView>(`/v1/pupils/${encodeURIComponent(upn)}`), schoolNames()]);
  const urns = [...new Set(pupil.enrolments.map((e) => e.urn))].filter(
    (u) => ctx.session.role !== 'school' || u === ctx.session.urn,
  );
  const who = name(pupil, pupil.upn);
  // One key per form shown: a double submit or a retry after a lost answer returns the same case.
  const idempotencyKey = `web-${Date.now().toString(36)}-${Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
  const errors = h('div');
  const create = async (e: Event) => {
    const data = new FormData(e.target as HTMLFormElement);
    const button = (e.target as HTMLFormElement).querySelector<HTMLButtonElement>('button[type=submit]')!;
    button.disabled = true;
    try {
      const created = await send<{ id: string }>(
        'POST',
        '/v1/referrals',
        {
          upn: pupil.upn,
          urn: String(data.get('urn')),
          type: String(data.get('type')),
          priority: String(data.get('priority')),
          reason: String(data.get('reason') ?? '').trim(),
        },
        { 'idempotency-key': idempotencyKey },
      );
      location.hash = `#/cases/${created.id}?created=1`;
    } catch (err) {
      errors.replaceChildren(errorSummary('There is a problem', problemList(err)));
      (errors.firstElementChild as HTMLElement | null)?.focus();
      button.disabled = false;
    }
  };
  const form = h(
    'form',
    {
      novalidate: true,
      onsubmit: (e: Event) => {
        e.preventDefault();
        void create(e);
      },
    },
    h(
      'div',
      { class: 'app-filters' },
      select(
        'urn',
        'School',
        urns.map((u) => [u, names.get(u) ?? `URN ${u}`]),
        ctx.query.get('urn') ?? urns[0],
      ),
      select('type', 'Type of case', Object.entries(TYPE_LABELS), ctx.query.get('type') ?? 'persistent_absence'),
      select('priority', 'Priority', Object.entries(PRIORITY_LABELS), 'normal'),
    ),
    textarea(
      'reason',
      'Reason for the referral',
      ctx.query.get('why') ?? '',
      'What the Support Team needs to know. The pupil’s figures and flags are attached as they stand today.',
    ),
    h('button', { type: 'submit', class: 'govuk-button' }, 'Open the case'),
  );
  return {
    title: `Open a case for ${who}`,
    body: [
      h('span', { class: 'govuk-caption-l' }, `UPN ${pupil.upn}`),
      h('h1', { class: 'govuk-heading-l' }, `Open a case for ${who}`),
      errors,
      summaryList([
        ['Attendance', pct(pupil.totals.attendanceRate)],
        [
          'Absence',
          `${pct(pupil.totals.absenceRate)} (${num(pupil.totals.absenceSessions)} of ${num(pupil.totals.possibleSessions)} sessions)`,
        ],
        ['Flags', pupil.flags.length ? pupil.flags.map((f) => flagLabel(f.type)).join(', ') : 'None'],
      ]),
      urns.length ? form : h('p', { class: 'govuk-body' }, 'This pupil has no enrolment you may refer them for.'),
    ],
  };
}

// ---- A case ---------------------------------------------------------------------------------------

function fmtValue(v: unknown): string {
  if (v === null || v === undefined || v === '') return 'none';
  if (typeof v === 'string') return STATUS_LABELS[v] ?? PRIORITY_LABELS[v] ?? OUTCOME_LABELS[v] ?? v;
  if (Array.isArray(v))
    return (
      v
        .map((x) =>
          x && typeof x === 'object' && 'name' in x ? String((x as { name: string }).name) : JSON.stringify(x),
        )
        .join(', ') || 'none'
    );
  if (typeof v === 'object' && v && 'type' in v)
    return OUTCOME_LABELS[String((v as { type: string }).type)] ?? String((v as { type: string }).type);
  return JSON.stringify(v);
}

function timeline(events: CaseEvent[]): HTMLElement {
  return h(
    'ol',
    { class: 'app-timeline', 'aria-label': 'Timeline' },
    [...events].reverse().map((e) => {
      const what: Child[] = [];
      if (e.kind === 'created') what.push('Case opened');
      if (e.kind === 'note') what.push('Note: ', e.note ?? '');
      if (e.kind === 'action' && e.action)
        what.push(
          `${ACTION_LABELS[e.action.type] ?? e.action.type} on ${date(e.action.date)}`,
          e.action.notes ? `: ${e.action.notes}` : '',
        );
      const changes =
        e.kind === 'created' ? [] : e.changes.filter((c) => c.field !== 'actions' && c.field !== 'updatedAt');
      return h(
        'li',
        { class: 'app-timeline__item' },
        h('h3', { class: 'govuk-heading-s app-timeline__title' }, `${dateTime(e.at)} · ${who(e.by)}`),
        what.length ? h('p', { class: 'govuk-body govuk-!-margin-bottom-1' }, what) : null,
        changes.length
          ? h(
              'ul',
              { class: 'govuk-list govuk-body-s' },
              changes.map((c) =>
                h(
                  'li',
                  null,
                  `${c.field.replace(/([A-Z])/g, ' $1').toLowerCase()}: ${fmtValue(c.from)} → ${fmtValue(c.to)}`,
                ),
              ),
            )
          : null,
      );
    }),
  );
}

function evidence(c: Case, names: Map<string, string>): Child[] {
  const ev = c.evidence;
  const win = ev.thresholdWindow as {
    sessions?: Array<{ date: string; session: string; code: string }>;
    metOn?: string;
  } | null;
  const sessions = Array.isArray(win?.sessions) ? win.sessions : [];
  return [
    h('h2', { class: 'govuk-heading-m' }, 'Evidence'),
    h(
      'p',
      { class: 'govuk-body-s' },
      `As it stood when the case was opened (${dateTime(ev.takenAt)}), ${ev.academicYear}/${String(ev.academicYear + 1).slice(2)}.`,
    ),
    summaryList([
      ['Attendance', pct(ev.totals.attendanceRate)],
      [
        'Absence',
        `${pct(ev.totals.absenceRate)} (${num(ev.totals.absenceSessions)} of ${num(ev.totals.possibleSessions)} sessions)`,
      ],
      [
        'Unauthorised absence',
        `${pct(ev.totals.unauthorisedAbsenceRate)} (${num(ev.totals.unauthorisedAbsenceSessions)} ${ev.totals.unauthorisedAbsenceSessions === 1 ? 'session' : 'sessions'})`,
      ],
      [
        'Persistent / severe absence',
        ev.severeAbsence ? 'Severely absent' : ev.persistentAbsence ? 'Persistently absent' : 'Neither',
      ],
    ]),
    h('h3', { class: 'govuk-heading-s' }, 'Flags and pattern findings'),
    ev.flags.length
      ? h(
          'ul',
          { class: 'govuk-list app-flags' },
          ev.flags.map((f) =>
            h(
              'li',
              null,
              h('strong', null, flagLabel(f.type)),
              ` since ${date(f.since)}. `,
              h(
                'span',
                { class: 'govuk-body-s' },
                typeof f.detail.explanation === 'string' ? f.detail.explanation : (FLAG_EXPLANATIONS[f.type] ?? ''),
              ),
            ),
          ),
        )
      : h('p', { class: 'govuk-body' }, 'No flags.'),
    ev.enrolments.length
      ? h(
          'div',
          { class: 'app-scroll' },
          table(
            'Figures by school',
            [
              { header: 'School', cell: (e) => names.get(e.urn) ?? `URN ${e.urn}` },
              { header: 'Possible sessions', cell: (e) => num(e.stats.possibleSessions), numeric: true },
              { header: 'Attendance', cell: (e) => pct(e.stats.attendanceRate), numeric: true },
              { header: 'Unauthorised', cell: (e) => pct(e.stats.unauthorisedAbsenceRate), numeric: true },
            ],
            ev.enrolments,
            { captionClass: 'govuk-table__caption--s' },
          ),
        )
      : null,
    sessions.length
      ? h(
          'div',
          { class: 'app-scroll' },
          table(
            'Sessions in the penalty-notice threshold window',
            [
              { header: 'Date', cell: (s) => date(s.date) },
              { header: 'Session', cell: (s) => s.session },
              { header: 'Code', cell: (s) => s.code },
            ],
            sessions,
            { captionClass: 'govuk-table__caption--s' },
          ),
        )
      : null,
    h(
      'p',
      { class: 'govuk-body' },
      h('a', { class: 'govuk-link', href: `#/pupils/${c.upn}` }, 'The pupil’s marks today'),
      ' (all their sessions, on a calendar).',
    ),
  ];
}

/** The forms the case's state allows this person. Each sends the version read; `act` handles the answer. */
function actions(
  c: Case,
  ctx: PageContext,
  act: (method: 'PATCH' | 'POST', path: string, body: unknown) => Promise<void>,
): Child[] {
  const isLa = ctx.session.role === 'la_officer';
  const path = `/v1/referrals/${c.id}`;
  const submit = (handler: (data: FormData) => Promise<void>) => (e: Event) => {
    e.preventDefault();
    const f = e.target as HTMLFormElement;
    const btn = f.querySelector<HTMLButtonElement>('button[type=submit]');
    if (btn) btn.disabled = true;
    void handler(new FormData(f)).finally(() => {
      if (btn?.isConnected) btn.disabled = false;
    });
  };
  const out: Child[] = [];
  const t = c.allowedTransitions;
  if (isLa && c.open) {
    if (t.includes('triaged')) {
      out.push(
        h(
          'form',
          {
            class: 'app-action',
            'aria-label': 'Triage',
            onsubmit: submit((d) => act('PATCH', path, { status: 'triaged', priority: String(d.get('priority')) })),
          },
          h('h3', { class: 'govuk-heading-s' }, 'Triage'),
          h(
            'div',
            { class: 'app-filters' },
            select('priority', 'Priority', Object.entries(PRIORITY_LABELS), c.priority),
            h(
              'div',
              { class: 'app-filters__item' },
              h('button', { type: 'submit', class: 'govuk-button' }, 'Triage the case'),
            ),
          ),
        ),
      );
    }
    if (t.includes('allocated')) {
      out.push(
        h(
          'form',
          {
            class: 'app-action',
            'aria-label': 'Allocate',
            onsubmit: submit((d) =>
              act('PATCH', path, { status: 'allocated', assignee: String(d.get('assignee') ?? '').trim() }),
            ),
          },
          h('h3', { class: 'govuk-heading-s' }, 'Allocate'),
          h(
            'div',
            { class: 'app-filters' },
            input('assignee', 'Officer to allocate to', c.assignee ?? ctx.session.sub),
            h(
              'div',
              { class: 'app-filters__item' },
              h('button', { type: 'submit', class: 'govuk-button' }, 'Allocate the case'),
            ),
          ),
        ),
      );
    }
    if (t.includes('in_progress')) {
      out.push(
        h(
          'form',
          {
            class: 'app-action',
            'aria-label': 'Start work',
            onsubmit: submit(() => act('PATCH', path, { status: 'in_progress' })),
          },
          h('h3', { class: 'govuk-heading-s' }, 'Start work'),
          h('p', { class: 'govuk-body-s' }, 'Recording an action also starts work on the case.'),
          h('button', { type: 'submit', class: 'govuk-button' }, 'Start work'),
        ),
      );
    }
    if (c.status === 'allocated' || c.status === 'in_progress') {
      out.push(
        h(
          'form',
          {
            class: 'app-action',
            'aria-label': 'Record an action',
            onsubmit: submit((d) =>
              act('POST', `${path}/events`, {
                kind: 'action',
                type: String(d.get('actionType')),
                date: String(d.get('actionDate')),
                ...(String(d.get('actionNotes') ?? '').trim() ? { notes: String(d.get('actionNotes')).trim() } : {}),
              }),
            ),
          },
          h('h3', { class: 'govuk-heading-s' }, 'Record an action'),
          h(
            'div',
            { class: 'app-filters' },
            select(
              'actionType',
              'Action',
              SIMPLE_ACTIONS.map((a) => [a, ACTION_LABELS[a]]),
              'letter',
            ),
            input('actionDate', 'Date', new Date().toLocaleDateString('en-CA', { timeZone: 'Europe/London' }), {
              type: 'date',
            }),
          ),
          textarea('actionNotes', 'Notes (optional)'),
          h('button', { type: 'submit', class: 'govuk-button govuk-button--secondary' }, 'Record the action'),
        ),
      );
    }
    if (t.includes('closed')) {
      out.push(
        h(
          'form',
          {
            class: 'app-action',
            'aria-label': 'Close',
            onsubmit: submit((d) =>
              act('POST', `${path}/events`, {
                kind: 'outcome',
                type: String(d.get('outcome')),
                ...(String(d.get('outcomeSummary') ?? '').trim()
                  ? { summary: String(d.get('outcomeSummary')).trim() }
                  : {}),
              }),
            ),
          },
          h('h3', { class: 'govuk-heading-s' }, 'Close with an outcome'),
          select('outcome', 'Outcome', Object.entries(OUTCOME_LABELS), 'attendance_improved'),
          textarea('outcomeSummary', 'Summary (optional)'),
          h('button', { type: 'submit', class: 'govuk-button' }, 'Close the case'),
        ),
      );
    }
  }
  const mayWithdraw =
    t.includes('withdrawn') &&
    (isLa ||
      (c.status === 'submitted' &&
        (ctx.session.role === 'school'
          ? c.createdBy.role === 'school' && c.createdBy.urn === ctx.session.urn
          : ctx.session.role === 'vsh' && c.createdBy.role === 'vsh')));
  if (mayWithdraw) {
    out.push(
      h(
        'form',
        {
          class: 'app-action',
          'aria-label': 'Withdraw',
          onsubmit: submit((d) =>
            act('PATCH', path, { status: 'withdrawn', reason: String(d.get('withdrawReason') ?? '').trim() }),
          ),
        },
        h('h3', { class: 'govuk-heading-s' }, 'Withdraw'),
        textarea('withdrawReason', 'Why the case is withdrawn'),
        h('button', { type: 'submit', class: 'govuk-button govuk-button--warning' }, 'Withdraw the case'),
      ),
    );
  }
  out.push(
    h(
      'form',
      {
        class: 'app-action',
        'aria-label': 'Add a note',
        onsubmit: submit((d) =>
          act('POST', `${path}/events`, { kind: 'note', text: String(d.get('note') ?? '').trim() }),
        ),
      },
      h('h3', { class: 'govuk-heading-s' }, 'Add a note'),
      textarea('note', 'Note'),
      h('button', { type: 'submit', class: 'govuk-button govuk-button--secondary' }, 'Add the note'),
    ),
  );
  return out;
}

export async function casePage(ctx: PageContext): Promise<PageResult> {
  const id = ctx.params[0];
  const [c, names] = await Promise.all([get<Case>(`/v1/referrals/${encodeURIComponent(id)}`), schoolNames()]);
  const pupilName = name(c.evidence.pupil, c.upn);
  const banner = (text: string) =>
    h(
      'div',
      { class: 'govuk-notification-banner govuk-notification-banner--success', role: 'status' },
      h(
        'div',
        { class: 'govuk-notification-banner__content' },
        h('p', { class: 'govuk-notification-banner__heading' }, text),
      ),
    );
  // What happened last (opened, saved) until the next answer replaces it.
  const messages = h(
    'div',
    { id: 'case-messages' },
    ctx.query.get('created') ? banner('Case opened.') : null,
    ctx.query.get('done')
      ? banner(`Saved. The case is now ${(STATUS_LABELS[c.status] ?? c.status).toLowerCase()}.`)
      : null,
  );
  let busy = false;
  const act = async (method: 'PATCH' | 'POST', path: string, body: unknown) => {
    if (busy) return;
    busy = true;
    try {
      await send(method, path, body, { 'if-match': `"${c.version}"` });
      ctx.reload({ done: '1' });
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        // Someone changed the case after this page read it: never re-send over their change.
        messages.replaceChildren(
          h(
            'div',
            { class: 'govuk-error-summary', tabindex: '-1', 'data-conflict': '' },
            h(
              'div',
              { role: 'alert' },
              h('h2', { class: 'govuk-error-summary__title' }, 'Someone else changed this case'),
              h(
                'div',
                { class: 'govuk-error-summary__body' },
                h(
                  'p',
                  { class: 'govuk-body' },
                  `This case was changed after you opened it${typeof err.body.currentVersion === 'number' ? ` (it is now at version ${err.body.currentVersion}; you read version ${c.version})` : ''}, so your change was not saved. Reload the case to see what changed, then decide whether your change is still needed.`,
                ),
                h('button', { type: 'button', class: 'govuk-button', onclick: () => ctx.reload() }, 'Reload the case'),
              ),
            ),
          ),
        );
      } else {
        messages.replaceChildren(errorSummary('There is a problem', problemList(err)));
      }
      (messages.firstElementChild as HTMLElement | null)?.focus();
    } finally {
      busy = false;
    }
  };
  const notices = c.noticesToImprove.filter((n) => n.evaluation);
  return {
    title: `Case: ${pupilName}`,
    body: [
      h('span', { class: 'govuk-caption-l' }, `${TYPE_LABELS[c.type] ?? c.type} · case ${c.id}`),
      h('h1', { class: 'govuk-heading-l' }, pupilName),
      messages,
      h(
        'p',
        { class: 'govuk-body' },
        statusTag(c.status),
        c.overdue ? [' ', tag('Overdue', 'red')] : null,
        c.triagedLate ? [' ', tag('Triaged late', 'orange')] : null,
      ),
      h(
        'div',
        { class: 'govuk-grid-row' },
        h(
          'div',
          { class: 'govuk-grid-column-two-thirds' },
          summaryList([
            ['Status', STATUS_LABELS[c.status] ?? c.status],
            ['Priority', PRIORITY_LABELS[c.priority] ?? c.priority],
            ['Assigned to', c.assignee ?? 'Not allocated'],
            ['School', names.get(c.urn) ?? `URN ${c.urn}`],
            ['Pupil', h('a', { class: 'govuk-link', href: `#/pupils/${c.upn}` }, `${pupilName} (UPN ${c.upn})`)],
            ['Opened', `${dateTime(c.createdAt)} by ${who(c.createdBy)}`],
            ['Triage due', `${date(c.triageDueOn)}${c.overdue ? ' (overdue)' : ''}`],
            ['Reason', c.reason],
            ...(c.parents.length
              ? [['Parents', c.parents.map((p) => `${p.name} (${p.relationship})`).join(', ')] as [string, string]]
              : []),
            ...(c.outcome
              ? [
                  [
                    'Outcome',
                    `${OUTCOME_LABELS[c.outcome.type] ?? c.outcome.type} on ${date(c.outcome.date)}${c.outcome.summary ? `: ${c.outcome.summary}` : ''}`,
                  ] as [string, string],
                ]
              : []),
            ...(c.withdrawalReason ? [['Withdrawn because', c.withdrawalReason] as [string, string]] : []),
          ]),
          notices.length
            ? [
                h('h2', { class: 'govuk-heading-m' }, 'Notices to improve'),
                h(
                  'ul',
                  { class: 'govuk-list' },
                  notices.map((n) =>
                    h(
                      'li',
                      null,
                      `From ${date(n.startDate)} for ${n.periodDays} school days: ${({ met: 'met', not_met: 'not met', in_progress: 'in progress' } as Record<string, string>)[n.evaluation!.status] ?? n.evaluation!.status}, ${n.evaluation!.unauthorisedSessions.length} unauthorised sessions.`,
                    ),
                  ),
                ),
              ]
            : null,
          evidence(c, names),
        ),
        h(
          'div',
          { class: 'govuk-grid-column-one-third' },
          h('h2', { class: 'govuk-heading-m' }, 'What you can do'),
          actions(c, ctx, act),
        ),
      ),
      h('h2', { class: 'govuk-heading-m' }, 'Timeline'),
      timeline(c.events),
    ],
  };
}
