import { ROLE_LABELS } from '../auth.js';
import { h } from '../dom.js';
import type { PageContext, PageResult } from '../main.js';

/** The Virtual School Head's and the administrator's start page until their own screens arrive (issue 19). */
export async function homePage(ctx: PageContext): Promise<PageResult> {
  const role = ctx.session.role;
  return {
    title: 'Home',
    body: [
      h('h1', { class: 'govuk-heading-l' }, `Signed in as ${ROLE_LABELS[role]}`),
      role === 'vsh'
        ? h('p', { class: 'govuk-body' }, 'See the looked-after, previously looked-after and children-in-need cohorts’ flagged pupils under ', h('a', { class: 'govuk-link', href: '#/pupils' }, 'Pupils'), '. The Virtual School’s roll and alerts come next.')
        : h('p', { class: 'govuk-body' }, 'Calendars, the school registry and the audit log come next; until then they are in the API (', h('a', { class: 'govuk-link', href: '/docs' }, 'API documentation'), ').'),
    ],
  };
}
