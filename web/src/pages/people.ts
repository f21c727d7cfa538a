/**
 * People (issue 19; docs/notifications.md), for the administrator: who alerts go to — each person's
 * address, and the role and school they hold (as in their sign-in account) — added, changed and
 * removed here. The choices of alert are each person's own ("Your alerts"); this page only shows how
 * many they have made. An address the API refuses is shown beside its field, with a summary above.
 */
import { ApiError, del, get, query, send } from '../api.js';
import { ROLE_LABELS, type Role } from '../auth.js';
import { errorSummary, h, notice, table, type Child } from '../dom.js';
import { dateTime } from '../format.js';
import type { PageContext, PageResult } from '../main.js';

interface Person {
  sub: string;
  email?: string;
  name?: string;
  role?: Role;
  urn?: string;
  preferences?: Record<string, string>;
  updatedAt: string;
  updatedBy: string;
}
type Fields = { sub: string; email: string; name: string; role: string; urn: string };
type FieldErrors = Partial<Record<keyof Fields, string>>;

const ROLES: Role[] = ['la_officer', 'vsh', 'school', 'admin'];
/** The API's own rule for a sign-in subject (functions/api/routes/notifications.ts). */
const SUB = /^[A-Za-z0-9._@:+-]{1,200}$/;
const FIELD_ORDER: Array<keyof Fields> = ['sub', 'name', 'email', 'role', 'urn'];

/** What can be told before asking the API; the rest (the address above all) is the API's 400. */
function checkLocally(f: Fields): FieldErrors {
  const errors: FieldErrors = {};
  if (!f.sub) errors.sub = "Enter the person's sign-in subject";
  else if (!SUB.test(f.sub)) errors.sub = 'The sign-in subject can only hold letters, digits and . _ @ : + -';
  if (!f.email) errors.email = 'Enter an email address';
  if (!f.role) errors.role = 'Choose the role the person holds';
  if (f.role === 'school' && !f.urn) errors.urn = "Enter the school's URN for a person with the school role";
  if (f.role && f.role !== 'school' && f.urn)
    errors.urn = 'Only a person with the school role has a school: leave the URN empty';
  return errors;
}

export async function peoplePage(ctx: PageContext): Promise<PageResult> {
  const { items } = await get<{ items: Person[] }>('/v1/people');
  const editing = ctx.query.get('edit');
  const removing = ctx.query.get('remove');
  const saved = ctx.query.get('saved');
  const removed = ctx.query.get('removed');
  const current = editing ? items.find((p) => p.sub === editing) : undefined;

  if (removing) {
    const person = items.find((p) => p.sub === removing);
    if (!person)
      return {
        title: 'People',
        body: [
          h('h1', { class: 'govuk-heading-l' }, 'People'),
          h(
            'p',
            { class: 'govuk-body' },
            'That person is no longer listed. ',
            h('a', { class: 'govuk-link', href: '#/people' }, 'Back to people'),
          ),
        ],
      };
    const failure = h('div');
    return {
      title: `Remove ${person.name ?? person.sub}`,
      body: [
        failure,
        h('h1', { class: 'govuk-heading-l' }, `Remove ${person.name ?? person.sub}?`),
        h(
          'p',
          { class: 'govuk-body' },
          'Nothing more will be sent to ',
          h('strong', null, person.email ?? 'them'),
          '. Their own choices of alert are removed too; their sign-in account is not changed.',
        ),
        h(
          'div',
          { class: 'govuk-button-group' },
          h(
            'button',
            {
              type: 'button',
              class: 'govuk-button govuk-button--warning',
              'data-module': 'govuk-button',
              onclick: () => {
                del(`/v1/people/${encodeURIComponent(person.sub)}`)
                  .then(() => ctx.reload({ removed: person.name ?? person.sub }))
                  .catch((err: unknown) => {
                    failure.replaceChildren(
                      errorSummary('There is a problem', [
                        {
                          text:
                            err instanceof ApiError
                              ? (err.detail ?? err.title)
                              : 'The person was not removed. Try again.',
                        },
                      ]),
                    );
                    (failure.firstElementChild as HTMLElement).focus();
                  });
              },
            },
            'Remove',
          ),
          h('a', { class: 'govuk-link', href: '#/people' }, 'Cancel'),
        ),
      ],
    };
  }

  const list = items.length
    ? h(
        'div',
        { class: 'app-scroll' },
        table<Person>(
          'People alerts go to',
          [
            {
              header: 'Name',
              cell: (p) => [p.name ?? '–', h('br'), h('span', { class: 'govuk-hint govuk-!-font-size-16' }, p.sub)],
              sort: (p) => p.name ?? p.sub,
            },
            { header: 'Address', cell: (p) => p.email ?? h('span', { class: 'govuk-hint' }, 'None: nothing is sent') },
            { header: 'Role', cell: (p) => (p.role ? ROLE_LABELS[p.role] : '–') },
            { header: 'School', cell: (p) => p.urn ?? '–' },
            {
              header: 'Their choices',
              cell: (p) => {
                const n = Object.keys(p.preferences ?? {}).length;
                return n ? `${n} changed` : 'The defaults';
              },
            },
            {
              header: 'Changed',
              cell: (p) => [
                dateTime(p.updatedAt),
                h('br'),
                h('span', { class: 'govuk-hint govuk-!-font-size-16' }, `by ${p.updatedBy}`),
              ],
              sort: (p) => p.updatedAt,
            },
            {
              header: 'Actions',
              cell: (p) =>
                h(
                  'ul',
                  { class: 'govuk-list govuk-!-margin-bottom-0' },
                  h(
                    'li',
                    null,
                    h(
                      'a',
                      { class: 'govuk-link', href: `#/people${query({ edit: p.sub })}` },
                      'Change',
                      h('span', { class: 'govuk-visually-hidden' }, ` ${p.name ?? p.sub}`),
                    ),
                  ),
                  h(
                    'li',
                    null,
                    h(
                      'a',
                      { class: 'govuk-link', href: `#/people${query({ remove: p.sub })}` },
                      'Remove',
                      h('span', { class: 'govuk-visually-hidden' }, ` ${p.name ?? p.sub}`),
                    ),
                  ),
                ),
            },
          ],
          items,
          { captionClass: 'govuk-visually-hidden' },
        ),
      )
    : h('p', { class: 'govuk-body' }, 'Nobody yet: no alert is sent until a person has an address here.');

  return {
    title: current ? `Change ${current.name ?? current.sub}` : 'People',
    body: [
      saved
        ? notice(`${saved} is saved.`, 'success')
        : removed
          ? notice(`${removed} is removed: nothing more is sent to them.`, 'success')
          : null,
      h('h1', { class: 'govuk-heading-l' }, 'People'),
      h(
        'p',
        { class: 'govuk-body' },
        'Who alerts go to: each person\'s address, and the role and school they hold (as in their sign-in account). Which alerts reach them, and how often, is their own choice on "Your alerts"; a role only ever receives the alerts meant for it.',
      ),
      list,
      personForm(ctx, current),
    ],
  };
}

function personForm(ctx: PageContext, person: Person | undefined): HTMLElement {
  const summary = h('div');
  const groups = new Map<keyof Fields, HTMLElement>();
  const errorSlots = new Map<keyof Fields, HTMLElement>();
  const group = (name: keyof Fields, ...children: Child[]) => {
    const slot = h('p', { class: 'govuk-error-message', id: `person-${name}-error`, hidden: true });
    const g = h('div', { class: 'govuk-form-group' }, children[0], children[1], slot, ...children.slice(2));
    groups.set(name, g);
    errorSlots.set(name, slot);
    return g;
  };
  const input = (name: keyof Fields, attrs: Record<string, string | boolean>) =>
    h('input', {
      class: 'govuk-input',
      id: `person-${name}`,
      name,
      'aria-describedby': `person-${name}-hint`,
      ...attrs,
    });

  const showErrors = (errors: FieldErrors, other: string[] = []) => {
    for (const name of FIELD_ORDER) {
      const g = groups.get(name)!;
      const slot = errorSlots.get(name)!;
      const message = errors[name];
      g.classList.toggle('govuk-form-group--error', Boolean(message));
      slot.hidden = !message;
      slot.replaceChildren(...(message ? [h('span', { class: 'govuk-visually-hidden' }, 'Error: '), message] : []));
      g.querySelectorAll('input').forEach((el) => {
        if (el.classList.contains('govuk-input')) el.classList.toggle('govuk-input--error', Boolean(message));
        const described = [`person-${name}-hint`, ...(message ? [`person-${name}-error`] : [])].join(' ');
        el.setAttribute('aria-describedby', described);
      });
    }
    const items = [
      ...FIELD_ORDER.filter((n) => errors[n]).map((n) => ({
        text: errors[n]!,
        href: n === 'role' ? '#person-role-la_officer' : `#person-${n}`,
      })),
      ...other.map((text) => ({ text })),
    ];
    summary.replaceChildren(...(items.length ? [errorSummary('There is a problem', items)] : []));
    (summary.firstElementChild as HTMLElement | null)?.focus();
  };

  const form = h(
    'form',
    {
      novalidate: true,
      onsubmit: (e: Event) => {
        e.preventDefault();
        const data = new FormData(e.target as HTMLFormElement);
        const f: Fields = {
          sub: person?.sub ?? String(data.get('sub') ?? '').trim(),
          email: String(data.get('email') ?? '').trim(),
          name: String(data.get('name') ?? '').trim(),
          role: String(data.get('role') ?? ''),
          urn: String(data.get('urn') ?? '').trim(),
        };
        const local = checkLocally(f);
        if (Object.keys(local).length) {
          showErrors(local);
          return;
        }
        send('PUT', `/v1/people/${encodeURIComponent(f.sub)}`, {
          email: f.email,
          role: f.role,
          ...(f.name ? { name: f.name } : {}),
          ...(f.urn ? { urn: f.urn } : {}),
        })
          .then(() => ctx.reload({ saved: f.name || f.sub }))
          .catch((err: unknown) => {
            if (!(err instanceof ApiError) || err.status !== 400) {
              showErrors({}, [
                err instanceof ApiError ? (err.detail ?? err.title) : 'The person was not saved. Try again.',
              ]);
              return;
            }
            // The API's own words, beside the field each is about.
            const errors: FieldErrors = {};
            const other: string[] = [];
            for (const x of err.errors) {
              const name = FIELD_ORDER.find((n) => n === x.field);
              if (name && !errors[name]) errors[name] = x.message;
              else if (!name) other.push(x.message);
            }
            showErrors(errors, Object.keys(errors).length || other.length ? other : [err.detail ?? err.title]);
          });
      },
    },
    person
      ? h('input', { type: 'hidden', name: 'sub', value: person.sub })
      : group(
          'sub',
          h('label', { class: 'govuk-label', for: 'person-sub' }, 'Sign-in subject'),
          h(
            'div',
            { class: 'govuk-hint', id: 'person-sub-hint' },
            'The "sub" of their sign-in account (in Cognito, the user\'s ID).',
          ),
          input('sub', {
            type: 'text',
            spellcheck: 'false',
            autocomplete: 'off',
            class: 'govuk-input govuk-input--width-30',
          }),
        ),
    group(
      'name',
      h('label', { class: 'govuk-label', for: 'person-name' }, 'Name (optional)'),
      h('div', { class: 'govuk-hint', id: 'person-name-hint' }, 'How this page shows them.'),
      input('name', {
        type: 'text',
        autocomplete: 'off',
        value: person?.name ?? '',
        class: 'govuk-input govuk-input--width-30',
      }),
    ),
    group(
      'email',
      h('label', { class: 'govuk-label', for: 'person-email' }, 'Email address'),
      h(
        'div',
        { class: 'govuk-hint', id: 'person-email-hint' },
        'Where their alerts go. An alert never names a child.',
      ),
      input('email', {
        type: 'email',
        spellcheck: 'false',
        autocomplete: 'off',
        value: person?.email ?? '',
        class: 'govuk-input govuk-input--width-30',
      }),
    ),
    (() => {
      const slot = h('p', { class: 'govuk-error-message', id: 'person-role-error', hidden: true });
      const g = h(
        'div',
        { class: 'govuk-form-group' },
        h(
          'fieldset',
          { class: 'govuk-fieldset', 'aria-describedby': 'person-role-hint' },
          h('legend', { class: 'govuk-fieldset__legend govuk-fieldset__legend--s' }, 'Role'),
          h(
            'div',
            { class: 'govuk-hint', id: 'person-role-hint' },
            'The role they hold in their sign-in account: it decides which alerts they can receive.',
          ),
          slot,
          h(
            'div',
            { class: 'govuk-radios govuk-radios--small', 'data-module': 'govuk-radios' },
            ROLES.map((role) =>
              h(
                'div',
                { class: 'govuk-radios__item' },
                h('input', {
                  class: 'govuk-radios__input',
                  id: `person-role-${role}`,
                  name: 'role',
                  type: 'radio',
                  value: role,
                  checked: person?.role === role,
                }),
                h('label', { class: 'govuk-label govuk-radios__label', for: `person-role-${role}` }, ROLE_LABELS[role]),
              ),
            ),
          ),
        ),
      );
      groups.set('role', g);
      errorSlots.set('role', slot);
      return g;
    })(),
    group(
      'urn',
      h('label', { class: 'govuk-label', for: 'person-urn' }, 'School URN (for the school role only)'),
      h('div', { class: 'govuk-hint', id: 'person-urn-hint' }, "The school's 6-digit unique reference number."),
      input('urn', {
        type: 'text',
        inputmode: 'numeric',
        spellcheck: 'false',
        autocomplete: 'off',
        value: person?.urn ?? '',
        class: 'govuk-input govuk-input--width-10',
      }),
    ),
    h(
      'div',
      { class: 'govuk-button-group' },
      h(
        'button',
        { type: 'submit', class: 'govuk-button', 'data-module': 'govuk-button' },
        person ? 'Save changes' : 'Add person',
      ),
      person ? h('a', { class: 'govuk-link', href: '#/people' }, 'Cancel') : null,
    ),
  );

  return h(
    'div',
    null,
    h(
      'h2',
      { class: 'govuk-heading-m', id: 'person-form' },
      person ? `Change ${person.name ?? person.sub}` : 'Add a person',
    ),
    summary,
    form,
  );
}
