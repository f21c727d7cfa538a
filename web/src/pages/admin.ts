/**
 * The administrator (issue 19): term-date calendars and the school registry — upload, then what was
 * read (counts, calendars or schools changed) and every rejected record and warning by line — and the
 * audit log, searchable by pupil, user and dates. All through the public API with the admin's token.
 */
import { ApiError, downloadCsv, get, post, query, type Page, type School, getAll } from '../api.js';
import { errorSummary, h, nextPage, replace, summaryList, table, type Child } from '../dom.js';
import { date, dateTime, num } from '../format.js';
import type { PageContext, PageResult } from '../main.js';

interface RecordError {
  line: number;
  field: string;
  code: string;
  message: string;
}
interface CalendarReport {
  importId: string;
  format: string;
  mode: string;
  counts: { records: number; imported: number; rejected: number; skipped: number };
  errors: RecordError[];
  warnings: RecordError[];
  calendars?: Array<{ urn: string | null; imported: number; academicYears: number[]; closures: number }>;
}
interface HeldCalendar {
  urn: string | null;
  updatedAt: string;
  academicYears: number[];
  closures: Array<{ start: string; end: string; label: string }>;
  imports: Array<{
    importId: string;
    at: string;
    format: string;
    mode: string;
    closures: number;
    academicYears: number[];
  }>;
}
interface RegistryReport {
  importId: string;
  counts: { records: number; accepted: number; rejected: number };
  outOfArea: number;
  errors: RecordError[];
}
interface AuditEntry {
  at: string;
  sub: string;
  role: string;
  action: string;
  target: string;
  outcome: string;
  urn?: string;
  upn?: string;
  count?: number;
}

const years = (ys: number[]) => ys.map((y) => `${y}/${String(y + 1).slice(2)}`).join(', ') || '–';

/** A file refused whole, with the problems the API gave (anything else is rethrown). */
function nothingImported(err: unknown): Child[] {
  if (!(err instanceof ApiError && err.errors.length)) throw err;
  return [
    h('h2', { class: 'govuk-heading-m' }, 'Nothing was imported'),
    h('p', { class: 'govuk-body' }, `${err.title}: ${err.detail ?? ''}`),
    recordTable(
      'Problems',
      err.errors.map((e) => ({ line: e.line ?? 0, field: e.field ?? '', code: '', message: e.message })),
    ),
  ];
}

function recordTable(caption: string, rows: RecordError[]): HTMLElement {
  return h(
    'div',
    { class: 'app-scroll' },
    table<RecordError>(
      caption,
      [
        { header: 'Line', cell: (e) => e.line, numeric: true },
        { header: 'Field', cell: (e) => e.field },
        { header: 'Message', cell: (e) => e.message },
      ],
      rows,
      { captionClass: 'govuk-table__caption--m' },
    ),
  );
}

/** A file input, its hint and an Upload button; `upload` answers with what to show below. */
function uploadForm(opts: {
  id: string;
  label: string;
  hint: string;
  accept: string;
  extra?: Child;
  upload: (file: File, form: FormData) => Promise<Child[]>;
}): HTMLElement {
  const result = h('div', { 'aria-live': 'polite' });
  const input = h('input', {
    class: 'govuk-file-upload',
    id: opts.id,
    name: 'file',
    type: 'file',
    accept: opts.accept,
    'aria-describedby': `${opts.id}-hint`,
  });
  const run = async () => {
    const file = input.files?.[0];
    if (!file) {
      replace(result, errorSummary('There is a problem', [{ text: 'Choose a file to upload', href: `#${opts.id}` }]));
      (result.firstElementChild as HTMLElement).focus();
      return;
    }
    const button = form.querySelector<HTMLButtonElement>('button[type=submit]')!;
    button.disabled = true;
    replace(result, h('p', { class: 'govuk-body' }, 'Uploading…'));
    try {
      replace(result, ...(await opts.upload(file, new FormData(form))));
    } catch (err) {
      replace(
        result,
        errorSummary('There is a problem', [
          {
            text: err instanceof ApiError ? `${err.title}: ${err.detail ?? ''}` : String((err as Error).message ?? err),
          },
        ]),
      );
    } finally {
      button.disabled = false;
    }
    const heading = result.querySelector<HTMLElement>('h2, .govuk-error-summary');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  };
  const form = h(
    'form',
    {
      novalidate: true,
      onsubmit: (e: Event) => {
        e.preventDefault();
        void run();
      },
    },
    h(
      'div',
      { class: 'govuk-form-group' },
      h('label', { class: 'govuk-label govuk-label--m', for: opts.id }, opts.label),
      h('div', { class: 'govuk-hint', id: `${opts.id}-hint` }, opts.hint),
      input,
    ),
    opts.extra,
    h('button', { type: 'submit', class: 'govuk-button' }, 'Upload'),
  );
  return h('div', null, form, result);
}

const contentTypeOf = (file: File, fallback: string) =>
  /\.ics$/i.test(file.name) ? 'text/calendar' : /\.csv$/i.test(file.name) ? 'text/csv' : file.type || fallback;

// ---- Calendars ------------------------------------------------------------------------------------

function calendarReport(r: CalendarReport, refused?: ApiError): Child[] {
  return [
    h('h2', { class: 'govuk-heading-m' }, refused ? 'Nothing was imported' : 'What was read'),
    refused ? h('p', { class: 'govuk-body' }, refused.detail ?? refused.title) : null,
    summaryList([
      [
        'Import',
        `${r.importId} (${r.format === 'ics' ? 'iCalendar' : 'CSV'}${r.mode ? `, ${r.mode === 'replace' ? 'replacing the years it covers' : 'added'}` : ''})`,
      ],
      ['Records read', num(r.counts.records)],
      ['Closures imported', num(r.counts.imported)],
      ['Rejected', num(r.counts.rejected)],
      ['Skipped', num(r.counts.skipped)],
    ]),
    r.calendars?.length
      ? h(
          'div',
          { class: 'app-scroll' },
          table(
            'Calendars changed',
            [
              { header: 'Calendar', cell: (c) => (c.urn ? `School ${c.urn}` : 'The LA') },
              { header: 'Imported', cell: (c) => num(c.imported), numeric: true },
              { header: 'Academic years', cell: (c) => years(c.academicYears) },
              { header: 'Closures held now', cell: (c) => num(c.closures), numeric: true },
            ],
            r.calendars,
            { captionClass: 'govuk-table__caption--m' },
          ),
        )
      : null,
    r.errors.length
      ? recordTable(`${r.errors.length} rejected ${r.errors.length === 1 ? 'record' : 'records'}`, r.errors)
      : null,
    r.warnings.length
      ? recordTable(`${r.warnings.length} ${r.warnings.length === 1 ? 'warning' : 'warnings'}`, r.warnings)
      : null,
  ];
}

export async function calendarsPage(ctx: PageContext): Promise<PageResult> {
  const held = await get<{ items: HeldCalendar[] }>('/v1/calendars');
  const upload = uploadForm({
    id: 'calendar-file',
    label: 'Upload term dates',
    hint: 'An iCalendar file (.ics) of all-day closures, or a CSV with start_date, end_date, label, urn (urn empty for the whole LA).',
    accept: '.ics,.csv,text/calendar,text/csv',
    extra: [
      h(
        'div',
        { class: 'govuk-form-group' },
        h(
          'label',
          { class: 'govuk-label', for: 'calendar-urn' },
          'URN of the school (leave empty for the LA’s calendar)',
        ),
        h('input', {
          class: 'govuk-input govuk-input--width-10',
          id: 'calendar-urn',
          name: 'urn',
          inputmode: 'numeric',
          autocomplete: 'off',
        }),
      ),
      h(
        'div',
        { class: 'govuk-form-group' },
        h(
          'fieldset',
          { class: 'govuk-fieldset' },
          h('legend', { class: 'govuk-fieldset__legend govuk-fieldset__legend--s' }, 'What the file is'),
          h(
            'div',
            { class: 'govuk-radios govuk-radios--small' },
            h(
              'div',
              { class: 'govuk-radios__item' },
              h('input', {
                class: 'govuk-radios__input',
                id: 'mode-replace',
                name: 'mode',
                type: 'radio',
                value: 'replace',
                checked: true,
              }),
              h(
                'label',
                { class: 'govuk-label govuk-radios__label', for: 'mode-replace' },
                'The whole calendar for each year it covers',
              ),
            ),
            h(
              'div',
              { class: 'govuk-radios__item' },
              h('input', { class: 'govuk-radios__input', id: 'mode-add', name: 'mode', type: 'radio', value: 'add' }),
              h('label', { class: 'govuk-label govuk-radios__label', for: 'mode-add' }, 'Closures to add'),
            ),
          ),
        ),
      ),
    ],
    upload: async (file, form) => {
      const urn = String(form.get('urn') ?? '').trim();
      try {
        const report = await post<CalendarReport>(
          `/v1/calendars${query({ urn, mode: String(form.get('mode') ?? 'replace') })}`,
          file,
          contentTypeOf(file, 'text/csv'),
        );
        return [
          ...calendarReport(report),
          h(
            'p',
            { class: 'govuk-body' },
            h(
              'a',
              {
                class: 'govuk-link',
                href: '#/calendars',
                onclick: (e: Event) => {
                  e.preventDefault();
                  ctx.reload();
                },
              },
              'See the calendars held now',
            ),
          ),
        ];
      } catch (err) {
        // A readable file with nothing to import still has its per-record report.
        if (err instanceof ApiError && err.body.counts) {
          return calendarReport(
            {
              importId: String(err.body.importId ?? ''),
              format: '',
              mode: '',
              counts: err.body.counts as CalendarReport['counts'],
              errors: (err.body.errors as RecordError[]) ?? [],
              warnings: (err.body.warnings as RecordError[]) ?? [],
            },
            err,
          );
        }
        return nothingImported(err);
      }
    },
  });
  return {
    title: 'Calendars',
    body: [
      h('h1', { class: 'govuk-heading-l' }, 'Calendars'),
      h(
        'p',
        { class: 'govuk-body' },
        'The LA’s term dates and schools’ own closures decide which days are school days.',
      ),
      upload,
      h('h2', { class: 'govuk-heading-m' }, 'Calendars held'),
      held.items.length
        ? held.items.map((c) =>
            h(
              'section',
              { class: 'app-action' },
              h('h3', { class: 'govuk-heading-s' }, c.urn ? `School ${c.urn}` : 'The LA'),
              h(
                'p',
                { class: 'govuk-body-s' },
                `Academic years ${years(c.academicYears)}; updated ${dateTime(c.updatedAt)}; ${num(c.closures.length)} closures.`,
              ),
              h(
                'details',
                { class: 'govuk-details' },
                h(
                  'summary',
                  { class: 'govuk-details__summary' },
                  h(
                    'span',
                    { class: 'govuk-details__summary-text' },
                    `Closures${c.urn ? ` of school ${c.urn}` : ' of the LA'}`,
                  ),
                ),
                h(
                  'div',
                  { class: 'govuk-details__text' },
                  table(
                    `Closures${c.urn ? ` of school ${c.urn}` : ' of the LA'}`,
                    [
                      { header: 'From', cell: (x) => date(x.start) },
                      { header: 'To', cell: (x) => date(x.end) },
                      { header: 'Label', cell: (x) => x.label },
                    ],
                    c.closures,
                    { captionClass: 'govuk-visually-hidden' },
                  ),
                ),
              ),
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No calendars yet.'),
    ],
  };
}

// ---- Registry -------------------------------------------------------------------------------------

export async function registryPage(_ctx: PageContext): Promise<PageResult> {
  const schools = await getAll<School>('/v1/schools');
  const upload = uploadForm({
    id: 'registry-file',
    label: 'Upload a GIAS extract',
    hint: 'A CSV from Get Information about Schools: URN, LA (code), EstablishmentNumber, EstablishmentName, PhaseOfEducation (name), TypeOfEstablishment (name), EstablishmentStatus (name). Other columns are ignored.',
    accept: '.csv,text/csv',
    upload: async (file) => {
      try {
        const r = await post<RegistryReport>('/v1/schools', file, 'text/csv');
        return [
          h('h2', { class: 'govuk-heading-m' }, 'What was read'),
          summaryList([
            ['Import', r.importId],
            ['Records read', num(r.counts.records)],
            ['Schools accepted', num(r.counts.accepted)],
            ['Rejected', num(r.counts.rejected)],
            ['Out of area', num(r.outOfArea)],
          ]),
          r.errors.length
            ? recordTable(`${r.errors.length} ${r.errors.length === 1 ? 'problem' : 'problems'} by line`, r.errors)
            : h('p', { class: 'govuk-body' }, 'Every record was read.'),
        ];
      } catch (err) {
        return nothingImported(err);
      }
    },
  });
  return {
    title: 'School registry',
    body: [
      h('h1', { class: 'govuk-heading-l' }, 'School registry'),
      h(
        'p',
        { class: 'govuk-body' },
        'The schools the LA knows, with their phase; schools of another LA code are out of area (looked-after children placed there).',
      ),
      upload,
      h(
        'div',
        { class: 'app-scroll' },
        table<School>(
          'Schools held',
          [
            { header: 'URN', cell: (s) => s.urn, sort: (s) => s.urn },
            { header: 'Name', cell: (s) => s.name ?? '–', sort: (s) => s.name },
            { header: 'Phase', cell: (s) => s.phase ?? '–', sort: (s) => s.phase },
            { header: 'LA code', cell: (s) => s.laCode ?? '–' },
            {
              header: 'Area',
              cell: (s) => (s.outOfArea ? 'Out of area' : 'In area'),
              sort: (s) => (s.outOfArea ? 1 : 0),
            },
            { header: 'In registry', cell: (s) => (s.inRegistry ? 'Yes' : 'No (returns only)') },
          ],
          schools.items,
          { captionClass: 'govuk-table__caption--m' },
        ),
      ),
    ],
  };
}

// ---- Audit log ------------------------------------------------------------------------------------

export async function auditPage(ctx: PageContext): Promise<PageResult> {
  const q = ctx.query;
  const filters = {
    upn: q.get('upn') ?? undefined,
    user: q.get('user') ?? undefined,
    from: q.get('from') ?? undefined,
    to: q.get('to') ?? undefined,
  };
  let list: Page<AuditEntry> | undefined;
  let problemBox: HTMLElement | null = null;
  try {
    list = await get<Page<AuditEntry>>(`/v1/audit${query({ ...filters, limit: 100, cursor: q.get('cursor') })}`);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 400) throw err;
    problemBox = errorSummary('There is a problem', [
      { text: err.detail ?? err.title },
      ...err.errors.map((e) => ({
        text: `${e.field ?? ''}: ${e.message}`,
        href: e.field ? `#${e.field === 'upn' ? 'upn' : e.field}` : undefined,
      })),
    ]);
  }
  const field = (id: string, label: string, attrs: Record<string, string> = {}) =>
    h(
      'div',
      { class: 'govuk-form-group app-filters__item' },
      h('label', { class: 'govuk-label', for: id }, label),
      h('input', {
        class: `govuk-input${attrs.type === 'date' ? '' : ' govuk-input--width-20'}`,
        id,
        name: id,
        value: (filters as Record<string, string | undefined>)[id] ?? '',
        autocomplete: 'off',
        ...attrs,
      }),
    );
  const form = h(
    'form',
    {
      class: 'app-filters',
      'aria-label': 'Search the audit log',
      role: 'search',
      onsubmit: (e: Event) => {
        e.preventDefault();
        ctx.setQuery(
          Object.fromEntries(
            [...new FormData(e.target as HTMLFormElement).entries()].map(([k, v]) => [k, String(v).trim()]),
          ),
        );
      },
    },
    field('upn', 'Pupil (UPN)', { spellcheck: 'false' }),
    field('user', 'User'),
    field('from', 'From', { type: 'date' }),
    field('to', 'To', { type: 'date' }),
    h('div', { class: 'app-filters__item' }, h('button', { type: 'submit', class: 'govuk-button' }, 'Search')),
  );
  const items = list?.items ?? [];
  return {
    title: 'Audit log',
    body: [
      h('h1', { class: 'govuk-heading-l' }, 'Audit log'),
      h(
        'p',
        { class: 'govuk-body' },
        'Every read of pupil-level data and every change, newest first. Without dates: the last 7 days; at most 92 days at a time.',
      ),
      problemBox,
      form,
      list
        ? [
            h(
              'p',
              { class: 'govuk-body', role: 'status' },
              `${num(items.length)} ${items.length === 1 ? 'entry' : 'entries'}${list.nextCursor ? ' on this page' : ''}.`,
            ),
            h(
              'button',
              {
                type: 'button',
                class: 'govuk-button govuk-button--secondary',
                onclick: () => void downloadCsv(`/v1/audit${query(filters)}`, 'audit.csv'),
              },
              'Download CSV',
            ),
            items.length
              ? h(
                  'div',
                  { class: 'app-scroll' },
                  table<AuditEntry>(
                    'Audit entries',
                    [
                      { header: 'When', cell: (e) => dateTime(e.at) },
                      {
                        header: 'User',
                        cell: (e) =>
                          h(
                            'a',
                            {
                              class: 'govuk-link',
                              href: `#/audit${query({ user: e.sub, from: filters.from, to: filters.to })}`,
                            },
                            e.sub,
                          ),
                      },
                      { header: 'Role', cell: (e) => e.role },
                      { header: 'Action', cell: (e) => e.action.replace(/_/g, ' ') },
                      { header: 'Target', cell: (e) => e.target },
                      { header: 'Outcome', cell: (e) => e.outcome },
                      {
                        header: 'Pupil',
                        cell: (e) =>
                          e.upn
                            ? h(
                                'a',
                                {
                                  class: 'govuk-link',
                                  href: `#/audit${query({ upn: e.upn, from: filters.from, to: filters.to })}`,
                                },
                                e.upn,
                              )
                            : '–',
                      },
                      { header: 'School', cell: (e) => e.urn ?? '–' },
                    ],
                    items,
                    { captionClass: 'govuk-visually-hidden' },
                  ),
                )
              : h('p', { class: 'govuk-body' }, 'No entries match.'),
            nextPage(list.nextCursor && `#/audit${query({ ...filters, cursor: list.nextCursor })}`),
          ]
        : null,
    ],
  };
}
