import { downloadCsv, get, query, type Page, type PupilListItem, type School, getAll } from '../api.js';
import { h, nextPage, table, tag, countColumn, rateColumn, filterForm } from '../dom.js';
import { cohortLabel, COHORT_LABELS, date, FLAG_EXPLANATIONS, flagLabel, FLAG_LABELS, num } from '../format.js';
import type { PageContext, PageResult } from '../main.js';

const PAGE_SIZE = 100;

function select(id: string, label: string, options: Array<[string, string]>, value: string | null): HTMLElement {
  return h(
    'div',
    { class: 'govuk-form-group app-filters__item' },
    h('label', { class: 'govuk-label', for: id }, label),
    h(
      'select',
      { class: 'govuk-select', id, name: id },
      options.map(([v, t]) => h('option', { value: v, selected: v === (value ?? '') }, t)),
    ),
  );
}

/** Flagged pupils across the LA (or the school's own), worst first, with filters and the CSV of what is shown. */
export async function listsPage(ctx: PageContext): Promise<PageResult> {
  const q = ctx.query;
  const flag = q.get('flag') ?? 'persistent_absence';
  const filters = {
    flag,
    urn: q.get('urn') ?? undefined,
    cohort: q.get('cohort') ?? undefined,
    yearGroup: q.get('yearGroup') ?? undefined,
    from: q.get('from') ?? undefined,
    to: q.get('to') ?? undefined,
  };
  const isLa = ctx.session.role === 'la_officer';
  const [list, schools] = await Promise.all([
    get<Page<PupilListItem>>(`/v1/pupils${query({ ...filters, limit: PAGE_SIZE, cursor: q.get('cursor') })}`),
    isLa ? getAll<School>('/v1/schools') : Promise.resolve({ items: [] as School[], nextCursor: null }),
  ]);
  const names = new Map(schools.items.map((s) => [s.urn, s.name ?? `URN ${s.urn}`]));
  const form = filterForm(
    (q) => ctx.setQuery(q),
    select('flag', 'Flag', Object.entries(FLAG_LABELS), flag),
    isLa
      ? select(
          'urn',
          'School',
          [
            ['', 'All schools'],
            ...schools.items
              .filter((s) => !s.outOfArea)
              .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''))
              .map((s): [string, string] => [s.urn, s.name ?? s.urn]),
          ],
          filters.urn ?? null,
        )
      : null,
    select(
      'cohort',
      'Cohort',
      [['', 'All pupils'], ...Object.entries(COHORT_LABELS).filter(([k]) => k !== 'all')],
      filters.cohort ?? null,
    ),
    h(
      'div',
      { class: 'govuk-form-group app-filters__item' },
      h('label', { class: 'govuk-label', for: 'yearGroup' }, 'Year group'),
      h('input', {
        class: 'govuk-input govuk-input--width-3',
        id: 'yearGroup',
        name: 'yearGroup',
        value: filters.yearGroup ?? '',
        autocomplete: 'off',
      }),
    ),
    h(
      'div',
      { class: 'govuk-form-group app-filters__item' },
      h('label', { class: 'govuk-label', for: 'from' }, 'From'),
      h('input', { class: 'govuk-input', type: 'date', id: 'from', name: 'from', value: filters.from ?? '' }),
    ),
    h(
      'div',
      { class: 'govuk-form-group app-filters__item' },
      h('label', { class: 'govuk-label', for: 'to' }, 'To'),
      h('input', { class: 'govuk-input', type: 'date', id: 'to', name: 'to', value: filters.to ?? '' }),
    ),
    h('div', { class: 'app-filters__item' }, h('button', { type: 'submit', class: 'govuk-button' }, 'Apply filters')),
  );
  const csvButton = h(
    'button',
    {
      type: 'button',
      class: 'govuk-button govuk-button--secondary',
      onclick: () => void downloadCsv(`/v1/pupils${query(filters)}`, `${flag}.csv`),
    },
    'Download CSV',
  );
  const total = list.total ?? list.items.length;
  return {
    title: flagLabel(flag),
    body: [
      h('span', { class: 'govuk-caption-l' }, 'Pupils'),
      h('h1', { class: 'govuk-heading-l' }, flagLabel(flag)),
      h('p', { class: 'govuk-body' }, FLAG_EXPLANATIONS[flag] ?? ''),
      form,
      h(
        'p',
        { class: 'govuk-body', role: 'status' },
        `${num(total)} ${total === 1 ? 'pupil' : 'pupils'}, worst first${list.nextCursor || q.get('cursor') ? ` (${PAGE_SIZE} a page)` : ''}.`,
      ),
      csvButton,
      list.items.length
        ? h(
            'div',
            { class: 'app-scroll' },
            table<PupilListItem>(
              'Flagged pupils',
              [
                {
                  header: 'Pupil',
                  cell: (p) => [
                    h(
                      'a',
                      { class: 'govuk-link', href: `#/pupils/${p.upn}` },
                      [p.forename, p.surname].filter(Boolean).join(' ') || p.upn,
                    ),
                    p.lookedAfter ? [' ', tag('Looked after', 'purple')] : null,
                  ],
                },
                { header: 'UPN', cell: (p) => p.upn },
                { header: 'Year', cell: (p) => p.yearGroup ?? '–', sort: (p) => Number(p.yearGroup) || p.yearGroup },
                { header: 'Schools', cell: (p) => p.urns.map((u) => names.get(u) ?? u).join(', ') },
                {
                  header: 'Cohorts',
                  cell: (p) =>
                    p.cohorts
                      .filter((c) => c !== 'all' && !c.startsWith('non_'))
                      .map(cohortLabel)
                      .join(', ') || '–',
                },
                rateColumn('Absence', (p) => p.stats.absenceRate),
                countColumn('Unauthorised sessions', (p) => p.stats.unauthorisedAbsenceSessions),
                {
                  header: 'Since',
                  cell: (p) => date(p.flags.find((f) => f.type === flag)?.since),
                  sort: (p) => p.flags.find((f) => f.type === flag)?.since ?? null,
                },
              ],
              list.items,
              { captionClass: 'govuk-visually-hidden' },
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No pupils match.'),
      nextPage(list.nextCursor && `#/pupils${query({ ...filters, cursor: list.nextCursor })}`),
    ],
  };
}
