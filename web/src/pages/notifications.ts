/**
 * Alerts (issue 19): each person's own choices — which alerts reach them and how often — and, for the
 * administrator, the outbox: what was sent, what waits and what failed, with the error and attempts.
 */
import { ApiError, get, query, send } from '../api.js';
import { errorSummary, h, nextPage, notice, table, tag } from '../dom.js';
import { dateTime, num } from '../format.js';
import type { PageContext, PageResult } from '../main.js';

type Frequency = 'immediate' | 'daily' | 'off';
interface Preference {
  kind: string;
  description: string;
  frequency: Frequency;
  default: Frequency;
  chosen: boolean;
}
interface MyPreferences {
  sub: string;
  role: string;
  email: string | null;
  kinds: Preference[];
}
interface OutboxItem {
  key: string;
  kind: string;
  sub: string;
  email: string;
  frequency: string;
  date: string;
  subject: string;
  preview: string;
  link: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  queuedAt: string;
  sentAt?: string;
  lastError?: string;
  digest: boolean;
}
interface Outbox {
  counts: { pending: number; sent: number; failed: number };
  items: OutboxItem[];
  nextCursor: string | null;
  total: number;
}

const FREQUENCIES: Array<[Frequency, string, string]> = [
  ['immediate', 'Straight away', 'An e-mail as soon as it is known (checked every 15 minutes in the school day)'],
  ['daily', 'In the daily summary', 'One e-mail at 4pm on school days with everything you chose for it'],
  ['off', 'Never', 'Not sent to you'],
];

export async function preferencesPage(ctx: PageContext): Promise<PageResult> {
  const mine = await get<MyPreferences>('/v1/me/notification-preferences');
  const saved = ctx.query.get('saved') === '1';
  const form = h(
    'form',
    {
      novalidate: true,
      onsubmit: (e: Event) => {
        e.preventDefault();
        const data = new FormData(e.target as HTMLFormElement);
        // Only what differs from the default is a choice (a kind left out keeps following the default).
        const preferences = Object.fromEntries(
          mine.kinds
            .map((k) => [k.kind, String(data.get(k.kind) ?? k.frequency)])
            .filter(([kind, f]) => mine.kinds.find((k) => k.kind === kind)?.default !== f),
        );
        send('PUT', '/v1/me/notification-preferences', { preferences })
          .then(() => ctx.reload({ saved: '1' }))
          .catch((err: unknown) => {
            const box = errorSummary('There is a problem', [
              { text: err instanceof ApiError ? (err.detail ?? err.title) : 'Your choices were not saved. Try again.' },
            ]);
            (e.target as HTMLFormElement).prepend(box);
            box.focus();
          });
      },
    },
    mine.kinds.map((k) =>
      h(
        'div',
        { class: 'govuk-form-group' },
        h(
          'fieldset',
          { class: 'govuk-fieldset', 'aria-describedby': `${k.kind}-hint` },
          h('legend', { class: 'govuk-fieldset__legend govuk-fieldset__legend--s' }, k.description),
          h(
            'div',
            { class: 'govuk-hint', id: `${k.kind}-hint` },
            `Unless you choose: ${FREQUENCIES.find(([f]) => f === k.default)?.[1].toLowerCase()}.`,
          ),
          h(
            'div',
            { class: 'govuk-radios govuk-radios--small', 'data-module': 'govuk-radios' },
            FREQUENCIES.map(([f, label, hint]) =>
              h(
                'div',
                { class: 'govuk-radios__item' },
                h('input', {
                  class: 'govuk-radios__input',
                  id: `${k.kind}-${f}`,
                  name: k.kind,
                  type: 'radio',
                  value: f,
                  checked: k.frequency === f,
                  'aria-describedby': `${k.kind}-${f}-hint`,
                }),
                h('label', { class: 'govuk-label govuk-radios__label', for: `${k.kind}-${f}` }, label),
                h('div', { class: 'govuk-hint govuk-radios__hint', id: `${k.kind}-${f}-hint` }, hint),
              ),
            ),
          ),
        ),
      ),
    ),
    mine.kinds.length
      ? h('button', { type: 'submit', class: 'govuk-button', 'data-module': 'govuk-button' }, 'Save your choices')
      : null,
  );
  return {
    title: 'Your alerts',
    body: [
      saved ? notice('Your choices are saved.', 'success') : null,
      h('h1', { class: 'govuk-heading-l' }, 'Your alerts'),
      h(
        'p',
        { class: 'govuk-body' },
        mine.email
          ? [
              'Alerts go to ',
              h('strong', null, mine.email),
              '. They never name a child: they say what happened and link here, where you sign in to see who.',
            ]
          : 'An administrator has not given you an e-mail address yet, so nothing is sent to you. You can still choose now.',
      ),
      mine.kinds.length ? form : h('p', { class: 'govuk-body' }, 'Your role receives no alerts.'),
    ],
  };
}

const STATUS_TAGS: Record<OutboxItem['status'], [string, 'green' | 'yellow' | 'red']> = {
  sent: ['Sent', 'green'],
  pending: ['Waiting', 'yellow'],
  failed: ['Failed', 'red'],
};

export async function outboxPage(ctx: PageContext): Promise<PageResult> {
  const status = ctx.query.get('status') ?? undefined;
  const outbox = await get<Outbox>(`/v1/notifications/outbox${query({ status, cursor: ctx.query.get('cursor') })}`);
  const filter = (label: string, value: string | undefined, count: number) => {
    const current = status === value;
    return h(
      'li',
      { class: 'app-tabs__item' },
      current
        ? h('strong', { 'aria-current': 'page' }, `${label} (${num(count)})`)
        : h(
            'a',
            { class: 'govuk-link', href: `#/notifications${query({ status: value })}` },
            `${label} (${num(count)})`,
          ),
    );
  };
  const { counts } = outbox;
  return {
    title: 'Notifications',
    body: [
      h('h1', { class: 'govuk-heading-l' }, 'Notifications'),
      h(
        'p',
        { class: 'govuk-body' },
        "Every alert the service has sent or will send, newest first. A failed one is tried again by the next run (every 15 minutes in the school day), up to 5 times; the error is the mail service's own.",
      ),
      counts.failed
        ? h(
            'div',
            { class: 'govuk-warning-text' },
            h('span', { class: 'govuk-warning-text__icon', 'aria-hidden': 'true' }, '!'),
            h(
              'strong',
              { class: 'govuk-warning-text__text' },
              h('span', { class: 'govuk-visually-hidden' }, 'Warning'),
              `${num(counts.failed)} ${counts.failed === 1 ? 'notification has' : 'notifications have'} failed.`,
            ),
          )
        : null,
      h(
        'nav',
        { 'aria-label': 'Show notifications by status' },
        h(
          'ul',
          { class: 'govuk-list app-inline-list' },
          filter('All', undefined, counts.pending + counts.sent + counts.failed),
          filter('Failed', 'failed', counts.failed),
          filter('Waiting', 'pending', counts.pending),
          filter('Sent', 'sent', counts.sent),
        ),
      ),
      outbox.items.length
        ? h(
            'div',
            { class: 'app-scroll' },
            table<OutboxItem>(
              'Notifications',
              [
                { header: 'Queued', cell: (i) => dateTime(i.queuedAt) },
                { header: 'Status', cell: (i) => tag(...STATUS_TAGS[i.status]) },
                {
                  header: 'To',
                  cell: (i) => [i.email, h('br'), h('span', { class: 'govuk-hint govuk-!-font-size-16' }, i.sub)],
                },
                {
                  header: 'Alert',
                  cell: (i) => [
                    h('strong', null, i.subject),
                    h('br'),
                    h(
                      'span',
                      { class: 'govuk-!-font-size-16' },
                      i.digest ? 'Daily summary' : i.kind.replace(/_/g, ' '),
                    ),
                  ],
                },
                { header: 'Attempts', cell: (i) => i.attempts, numeric: true },
                {
                  header: 'Sent or error',
                  cell: (i) => (i.status === 'sent' ? dateTime(i.sentAt) : (i.lastError ?? '–')),
                },
              ],
              outbox.items,
              { captionClass: 'govuk-visually-hidden' },
            ),
          )
        : h('p', { class: 'govuk-body' }, 'Nothing here.'),
      nextPage(outbox.nextCursor && `#/notifications${query({ status, cursor: outbox.nextCursor })}`),
    ],
  };
}
