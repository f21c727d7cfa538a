import { ROLE_LABELS } from '../auth.js';
import { h } from '../dom.js';
import type { PageContext, PageResult } from '../main.js';

/** The administrator's start page (the Virtual School Head starts on the Virtual School page). */
export async function homePage(ctx: PageContext): Promise<PageResult> {
  const role = ctx.session.role;
  return {
    title: 'Home',
    body: [
      h('h1', { class: 'govuk-heading-l' }, `Signed in as ${ROLE_LABELS[role]}`),
      role === 'vsh'
        ? h(
            'p',
            { class: 'govuk-body' },
            'See the looked-after, previously looked-after and children-in-need cohorts’ flagged pupils under ',
            h('a', { class: 'govuk-link', href: '#/pupils' }, 'Pupils'),
            '. The Virtual School’s roll and alerts come next.',
          )
        : h(
            'ul',
            { class: 'govuk-list govuk-list--bullet' },
            h(
              'li',
              null,
              h('a', { class: 'govuk-link', href: '#/calendars' }, 'Calendars'),
              ': the LA’s and schools’ term dates',
            ),
            h('li', null, h('a', { class: 'govuk-link', href: '#/registry' }, 'School registry'), ': the GIAS extract'),
            h(
              'li',
              null,
              h('a', { class: 'govuk-link', href: '#/audit' }, 'Audit log'),
              ': who read or changed what, by pupil, user and date',
            ),
          ),
    ],
  };
}
