import { h } from '../dom.js';
import type { PageContext } from '../main.js';

/** From and to dates (a period within one academic year); empty means the year to date. */
export function periodPicker(
  ctx: PageContext,
  shown: { from: string; to: string },
  extra: Record<string, string | undefined> = {},
): HTMLElement {
  const from = h('input', {
    class: 'govuk-input govuk-input--width-10',
    type: 'date',
    id: 'period-from',
    name: 'from',
    value: ctx.query.get('from') ?? shown.from,
  });
  const to = h('input', {
    class: 'govuk-input govuk-input--width-10',
    type: 'date',
    id: 'period-to',
    name: 'to',
    value: ctx.query.get('to') ?? shown.to,
  });
  return h(
    'form',
    {
      class: 'app-filters',
      'aria-label': 'Period',
      onsubmit: (e: Event) => {
        e.preventDefault();
        ctx.setQuery({ ...extra, from: from.value, to: to.value });
      },
    },
    h(
      'div',
      { class: 'govuk-form-group app-filters__item' },
      h('label', { class: 'govuk-label', for: 'period-from' }, 'From'),
      from,
    ),
    h(
      'div',
      { class: 'govuk-form-group app-filters__item' },
      h('label', { class: 'govuk-label', for: 'period-to' }, 'To'),
      to,
    ),
    h(
      'div',
      { class: 'app-filters__item' },
      h('button', { type: 'submit', class: 'govuk-button govuk-button--secondary' }, 'Show period'),
      ' ',
      h(
        'a',
        { class: 'govuk-link app-filters__reset', href: `#${location.hash.slice(1).split('?')[0]}` },
        'Year to date',
      ),
    ),
  );
}
