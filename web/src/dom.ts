/** A small DOM builder: h('p', { class: 'govuk-body' }, 'text', child). No framework, no innerHTML. */
import { num, pct } from './format.js';

export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener> & { class?: string };

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A GOV.UK link to an in-app route. */
export function link(href: string, text: Child, attrs: Attrs = {}): HTMLAnchorElement {
  return h('a', { class: 'govuk-link', href, ...attrs }, text);
}

interface Column<T> {
  header: string;
  cell: (row: T) => Child;
  numeric?: boolean;
  /** Sort value: a column with one is sortable (aria-sort on its header). */
  sort?: (row: T) => number | string | null;
}

/** A GOV.UK table; columns with `sort` get header buttons that sort it (announced with aria-sort). */
export function table<T>(
  caption: string,
  columns: Column<T>[],
  rows: T[],
  options: {
    captionClass?: string;
    initialSort?: { column: number; descending?: boolean };
    rowClass?: (row: T) => string | undefined;
  } = {},
): HTMLTableElement {
  const tbody = h('tbody', { class: 'govuk-table__body' });
  let sortState = options.initialSort;
  const ths = columns.map((c, i) => {
    const th = h('th', {
      scope: 'col',
      class: `govuk-table__header${c.numeric ? ' govuk-table__header--numeric' : ''}`,
    });
    if (c.sort) {
      th.append(
        h(
          'button',
          {
            type: 'button',
            class: 'app-sort-button',
            onclick: () => {
              sortState = { column: i, descending: sortState?.column === i ? !sortState.descending : false };
              render();
            },
          },
          c.header,
        ),
      );
    } else th.append(c.header);
    return th;
  });
  const render = () => {
    let sorted = rows;
    if (sortState && columns[sortState.column]?.sort) {
      const key = columns[sortState.column].sort!;
      const dir = sortState.descending ? -1 : 1;
      sorted = [...rows].sort((a, b) => {
        const x = key(a),
          y = key(b);
        if (x === y) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        return (x < y ? -1 : 1) * dir;
      });
    }
    ths.forEach((th, i) => {
      if (!columns[i].sort) return;
      th.setAttribute(
        'aria-sort',
        sortState?.column === i ? (sortState.descending ? 'descending' : 'ascending') : 'none',
      );
    });
    replace(
      tbody,
      sorted.map((r) =>
        h(
          'tr',
          { class: `govuk-table__row ${options.rowClass?.(r) ?? ''}`.trim() },
          columns.map((c, i) =>
            i === 0
              ? h(
                  'th',
                  { scope: 'row', class: `govuk-table__header${c.numeric ? ' govuk-table__header--numeric' : ''}` },
                  c.cell(r),
                )
              : h('td', { class: `govuk-table__cell${c.numeric ? ' govuk-table__cell--numeric' : ''}` }, c.cell(r)),
          ),
        ),
      ),
    );
  };
  render();
  return h(
    'table',
    { class: 'govuk-table' },
    h('caption', { class: `govuk-table__caption ${options.captionClass ?? 'govuk-table__caption--m'}` }, caption),
    h('thead', { class: 'govuk-table__head' }, h('tr', { class: 'govuk-table__row' }, ths)),
    tbody,
  );
}

export function summaryList(rows: Array<[string, Child]>): HTMLElement {
  return h(
    'dl',
    { class: 'govuk-summary-list' },
    rows.map(([k, v]) =>
      h(
        'div',
        { class: 'govuk-summary-list__row' },
        h('dt', { class: 'govuk-summary-list__key' }, k),
        h('dd', { class: 'govuk-summary-list__value' }, v),
      ),
    ),
  );
}

export function heading(text: string, caption?: string): HTMLElement[] {
  return [
    caption ? h('span', { class: 'govuk-caption-l' }, caption) : null,
    h('h1', { class: 'govuk-heading-l' }, text),
  ].filter(Boolean) as HTMLElement[];
}

export function tag(
  text: string,
  colour?: 'red' | 'orange' | 'green' | 'grey' | 'blue' | 'yellow' | 'purple',
): HTMLElement {
  return h('strong', { class: `govuk-tag${colour ? ` govuk-tag--${colour}` : ''}` }, text);
}

export function errorSummary(title: string, items: Array<{ text: string; href?: string }>): HTMLElement {
  const box = h(
    'div',
    { class: 'govuk-error-summary', 'data-module': 'govuk-error-summary', tabindex: '-1' },
    h(
      'div',
      { role: 'alert' },
      h('h2', { class: 'govuk-error-summary__title' }, title),
      h(
        'div',
        { class: 'govuk-error-summary__body' },
        h(
          'ul',
          { class: 'govuk-list govuk-error-summary__list' },
          items.map((i) => h('li', null, i.href ? h('a', { href: i.href }, i.text) : i.text)),
        ),
      ),
    ),
  );
  return box;
}

export function notice(text: Child, kind: 'info' | 'success' = 'info'): HTMLElement {
  return h(
    'div',
    {
      class: `govuk-notification-banner${kind === 'success' ? ' govuk-notification-banner--success' : ''}`,
      role: kind === 'success' ? 'alert' : 'region',
      'aria-labelledby': `nb-title-${kind}`,
    },
    h(
      'div',
      { class: 'govuk-notification-banner__header' },
      h(
        'h2',
        { class: 'govuk-notification-banner__title', id: `nb-title-${kind}` },
        kind === 'success' ? 'Success' : 'Important',
      ),
    ),
    h(
      'div',
      { class: 'govuk-notification-banner__content' },
      h('p', { class: 'govuk-notification-banner__heading' }, text),
    ),
  );
}

/** The "Next page" link under a paged list (none on the last page). */
export function nextPage(href: string | null): HTMLElement | null {
  if (!href) return null;
  return h(
    'nav',
    { class: 'govuk-pagination', 'aria-label': 'Pages' },
    h(
      'div',
      { class: 'govuk-pagination__next' },
      h(
        'a',
        { class: 'govuk-link govuk-pagination__link', href, rel: 'next' },
        h('span', { class: 'govuk-pagination__link-title' }, 'Next page'),
      ),
    ),
  );
}

/** A sortable column of counts. */
export function countColumn<T>(header: string, value: (row: T) => number | null): Column<T> {
  return { header, cell: (row) => num(value(row)), numeric: true, sort: value };
}

/** A sortable column of rates, as percentages ("–" where there is none). */
export function rateColumn<T>(header: string, value: (row: T) => number | null): Column<T> {
  return { header, cell: (row) => pct(value(row)), numeric: true, sort: value };
}

/** A filter form: submitting it sets the page's query to the form's values. */
export function filterForm(setQuery: (q: Record<string, string>) => void, ...controls: Child[]): HTMLFormElement {
  return h(
    'form',
    {
      class: 'app-filters',
      'aria-label': 'Filters',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const data = new FormData(e.target as HTMLFormElement);
        setQuery(Object.fromEntries([...data.entries()].map(([k, v]) => [k, String(v)])));
      },
    },
    ...controls,
  );
}

/** A chart with the table of its figures beside it (the table scrolls on a narrow screen). */
export function chartBesideTable(chart: Child, figures: Child): HTMLElement {
  return h(
    'div',
    { class: 'govuk-grid-row' },
    h('div', { class: 'govuk-grid-column-one-half' }, chart),
    h('div', { class: 'govuk-grid-column-one-half app-scroll' }, figures),
  );
}
