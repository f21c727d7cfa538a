import { downloadCsv, get, query, type Page, type School, getAll } from '../api.js';
import { h, table } from '../dom.js';
import { date, num } from '../format.js';
import type { PageContext, PageResult } from '../main.js';

interface Finding {
  type: string;
  upn?: string;
  urn: string;
  from: string;
  to: string;
  observed: number;
  expected: number | null;
  statistic: { name: string; value: number; threshold: number; flaggedWhen: string };
  explanation: string;
}

const TYPES: Record<string, string> = {
  '': 'All findings',
  holiday_adjacent_absence: 'Absence next to holidays',
  near_threshold_unauthorised: 'Just under the penalty-notice threshold',
  family_pattern: 'Family patterns',
  school_coding: 'School coding',
};

/** The threshold-gaming findings of the latest run, with their evidence. */
export async function patternsPage(ctx: PageContext): Promise<PageResult> {
  const filters = {
    type: ctx.query.get('type') ?? undefined,
    urn: ctx.query.get('urn') ?? undefined,
    from: ctx.query.get('from') ?? undefined,
    to: ctx.query.get('to') ?? undefined,
  };
  const [found, schools] = await Promise.all([
    get<Page<Finding> & { run: { finishedAt: string; period: { from: string; to: string } } | null }>(
      `/v1/patterns${query({ ...filters, limit: 200 })}`,
    ),
    getAll<School>('/v1/schools'),
  ]);
  const names = new Map(schools.items.map((s) => [s.urn, s.name ?? `URN ${s.urn}`]));
  const typeSelect = h(
    'select',
    { class: 'govuk-select', id: 'type', name: 'type' },
    Object.entries(TYPES).map(([v, t]) => h('option', { value: v, selected: v === (filters.type ?? '') }, t)),
  );
  const schoolSelect = h(
    'select',
    { class: 'govuk-select', id: 'urn', name: 'urn' },
    [['', 'All schools'], ...schools.items.map((s) => [s.urn, s.name ?? s.urn])].map(([v, t]) =>
      h('option', { value: v, selected: v === (filters.urn ?? '') }, t),
    ),
  );
  return {
    title: 'Patterns',
    body: [
      h('h1', { class: 'govuk-heading-l' }, 'Threshold-gaming patterns'),
      h(
        'p',
        { class: 'govuk-body' },
        found.run
          ? `From the detectors’ run of ${date(found.run.finishedAt)}, over ${date(found.run.period.from)} to ${date(found.run.period.to)}.`
          : 'The detectors have not run yet.',
      ),
      h(
        'form',
        {
          class: 'app-filters',
          'aria-label': 'Filters',
          onsubmit: (e: Event) => {
            e.preventDefault();
            ctx.setQuery({ ...filters, type: typeSelect.value, urn: schoolSelect.value });
          },
        },
        h(
          'div',
          { class: 'govuk-form-group app-filters__item' },
          h('label', { class: 'govuk-label', for: 'type' }, 'Pattern'),
          typeSelect,
        ),
        h(
          'div',
          { class: 'govuk-form-group app-filters__item' },
          h('label', { class: 'govuk-label', for: 'urn' }, 'School'),
          schoolSelect,
        ),
        h(
          'div',
          { class: 'app-filters__item' },
          h('button', { type: 'submit', class: 'govuk-button' }, 'Apply filters'),
        ),
      ),
      h('p', { class: 'govuk-body', role: 'status' }, `${num(found.total ?? found.items.length)} findings.`),
      h(
        'button',
        {
          type: 'button',
          class: 'govuk-button govuk-button--secondary',
          onclick: () => void downloadCsv(`/v1/patterns${query(filters)}`, 'patterns.csv'),
        },
        'Download CSV',
      ),
      found.items.length
        ? h(
            'div',
            { class: 'app-scroll' },
            table<Finding>(
              'Findings',
              [
                { header: 'Pattern', cell: (f) => TYPES[f.type] ?? f.type },
                {
                  header: 'Pupil',
                  cell: (f) => (f.upn ? h('a', { class: 'govuk-link', href: `#/pupils/${f.upn}` }, f.upn) : '–'),
                },
                {
                  header: 'School',
                  cell: (f) => h('a', { class: 'govuk-link', href: `#/schools/${f.urn}` }, names.get(f.urn) ?? f.urn),
                },
                { header: 'Dates', cell: (f) => `${date(f.from)} to ${date(f.to)}` },
                { header: 'Evidence', cell: (f) => f.explanation },
                { header: 'Observed', cell: (f) => num(f.observed), numeric: true },
                { header: 'Expected', cell: (f) => (f.expected === null ? '–' : f.expected.toFixed(1)), numeric: true },
              ],
              found.items,
              { captionClass: 'govuk-visually-hidden' },
            ),
          )
        : h('p', { class: 'govuk-body' }, 'No findings match.'),
    ],
  };
}
