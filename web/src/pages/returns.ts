import { ApiError, fetchBlob, get, getAll, post, query, type Page, type ReturnStatus, type School } from '../api.js';
import { errorSummary, filterForm, h, replace, summaryList, table, tag } from '../dom.js';
import { dateTime, num } from '../format.js';
import type { PageContext, PageResult } from '../main.js';

/** LIMITS.maxDirectUploadBytes (shared/config.ts, which reads the Node environment): larger files go through a presigned upload. */
const MAX_DIRECT_UPLOAD_BYTES = 4 * 1024 * 1024;

export interface ReturnItem {
  returnId: string;
  urn: string;
  status: string;
  receivedAt: string;
}

const STATUS: Record<string, { text: string; colour: 'green' | 'orange' | 'red' | 'grey' | 'blue' }> = {
  awaiting_upload: { text: 'Awaiting upload', colour: 'grey' },
  received: { text: 'Received', colour: 'blue' },
  processing: { text: 'Processing', colour: 'blue' },
  accepted: { text: 'Accepted', colour: 'green' },
  accepted_with_errors: { text: 'Accepted with errors', colour: 'orange' },
  rejected: { text: 'Rejected', colour: 'red' },
};
const FINAL = new Set(['accepted', 'accepted_with_errors', 'rejected']);

function statusTag(s: string): HTMLElement {
  const st = STATUS[s] ?? { text: s, colour: 'grey' as const };
  return tag(st.text, st.colour);
}

export function returnsTable(items: ReturnItem[]): HTMLElement {
  if (!items.length) return h('p', { class: 'govuk-body' }, 'No returns yet.');
  return h(
    'div',
    { class: 'app-scroll' },
    table<ReturnItem>(
      'Returns, newest first',
      [
        {
          header: 'Received',
          cell: (r) => h('a', { class: 'govuk-link', href: `#/returns/${r.returnId}` }, dateTime(r.receivedAt)),
        },
        { header: 'Return', cell: (r) => r.returnId },
        { header: 'URN', cell: (r) => r.urn },
        { header: 'Status', cell: (r) => statusTag(r.status) },
      ],
      items,
      { captionClass: 'govuk-visually-hidden' },
    ),
  );
}

function formatOf(file: File): 'csv' | 'ctf' {
  return /\.xml$/i.test(file.name) || /xml/.test(file.type) ? 'ctf' : 'csv';
}

/** Send a file: directly, or (over the direct limit) through a presigned upload, without the user noticing. */
async function send(file: File, urn: string | undefined): Promise<string> {
  const format = formatOf(file);
  const contentType = format === 'ctf' ? 'application/xml' : 'text/csv';
  if (file.size <= MAX_DIRECT_UPLOAD_BYTES) {
    try {
      return (await post<{ returnId: string }>('/v1/returns', file, contentType)).returnId;
    } catch (err) {
      // Refused at the door: the file is kept and the problem carries its return id.
      if (err instanceof ApiError && typeof err.body.returnId === 'string') return err.body.returnId;
      throw err;
    }
  }
  if (!urn) throw new Error('Say which school this file is for.');
  const presigned = await post<{ returnId: string; uploadUrl: string; headers: Record<string, string> }>(
    '/v1/returns/uploads',
    JSON.stringify({ urn, format, bytes: file.size }),
    'application/json',
  );
  const put = await fetch(presigned.uploadUrl, { method: 'PUT', headers: presigned.headers, body: file });
  if (!put.ok) throw new Error(`The file could not be uploaded (${put.status}); try again.`);
  return presigned.returnId;
}

export async function uploadPage(ctx: PageContext): Promise<PageResult> {
  const role = ctx.session.role;
  const status = h('div', { 'aria-live': 'polite' });
  const input = h('input', {
    class: 'govuk-file-upload',
    id: 'return-file',
    name: 'file',
    type: 'file',
    accept: '.csv,.xml,text/csv,application/xml',
  });
  const urnInput =
    role === 'vsh'
      ? h('input', { class: 'govuk-input govuk-input--width-10', id: 'return-urn', name: 'urn', inputmode: 'numeric' })
      : undefined;
  const chosen = h('p', { class: 'govuk-body app-drop__chosen' });
  let file: File | undefined;
  const choose = (f: File | undefined) => {
    file = f;
    chosen.textContent = f ? `Chosen: ${f.name} (${num(f.size)} bytes)` : '';
  };
  input.addEventListener('change', () => choose(input.files?.[0]));
  const drop = h(
    'div',
    { class: 'app-drop' },
    h(
      'div',
      { class: 'govuk-form-group' },
      h('label', { class: 'govuk-label govuk-label--m', for: 'return-file' }, 'Choose a CSV or CTF file'),
      h(
        'div',
        { class: 'govuk-hint', id: 'return-file-hint' },
        'Or drag and drop it here. A daily register as CSV, or a Common Transfer File (XML). Large files are fine.',
      ),
      input,
    ),
    chosen,
  );
  input.setAttribute('aria-describedby', 'return-file-hint');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('app-drop--over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('app-drop--over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('app-drop--over');
    choose(e.dataTransfer?.files?.[0]);
  });
  const submit = h('button', { type: 'submit', class: 'govuk-button' }, 'Upload');
  const upload = async (): Promise<void> => {
    if (!file) {
      replace(status, errorSummary('There is a problem', [{ text: 'Choose a file to upload', href: '#return-file' }]));
      status.querySelector<HTMLElement>('.govuk-error-summary')?.focus();
      return;
    }
    submit.setAttribute('disabled', '');
    replace(status, h('p', { class: 'govuk-body' }, 'Uploading…'));
    try {
      const id = await send(file, ctx.session.urn ?? urnInput?.value);
      location.hash = `#/returns/${id}`;
    } catch (err) {
      const msg = err instanceof ApiError ? `${err.title}: ${err.detail ?? ''}` : (err as Error).message;
      replace(status, errorSummary('The file was not sent', [{ text: msg }]));
      status.querySelector<HTMLElement>('.govuk-error-summary')?.focus();
    } finally {
      submit.removeAttribute('disabled');
    }
  };
  // Every failure is shown in the error summary inside upload(); nothing is left to reject.
  const form = h(
    'form',
    {
      novalidate: true,
      onsubmit: (e: Event) => {
        e.preventDefault();
        void upload();
      },
    },
    drop,
    urnInput
      ? h(
          'div',
          { class: 'govuk-form-group' },
          h(
            'label',
            { class: 'govuk-label', for: 'return-urn' },
            'URN of the out-of-area school (for files over 4 MB)',
          ),
          urnInput,
        )
      : null,
    submit,
  );
  const recent =
    role === 'school'
      ? await get<Page<ReturnItem>>(`/v1/returns${query({ limit: 5 })}`).catch(() => ({
          items: [] as ReturnItem[],
          nextCursor: null,
        }))
      : { items: [] as ReturnItem[], nextCursor: null };
  return {
    title: 'Upload a return',
    body: [
      status,
      h('h1', { class: 'govuk-heading-l' }, 'Upload a return'),
      h(
        'p',
        { class: 'govuk-body' },
        'Send today’s register, a correction, or a back-fill. You will see what was accepted and every row that needs fixing.',
      ),
      form,
      role === 'school'
        ? [
            h('h2', { class: 'govuk-heading-m' }, 'Recent returns'),
            returnsTable(recent.items),
            h('p', { class: 'govuk-body' }, h('a', { class: 'govuk-link', href: '#/returns' }, 'All returns')),
          ]
        : null,
    ],
  };
}

/**
 * Which school's returns (LA officers: any school; the Virtual School: the out-of-area schools it
 * sends for, the only ones the API lists for it). A school sees its own and is never asked.
 */
async function schoolChooser(ctx: PageContext, urn: string | undefined): Promise<HTMLElement> {
  const schools = (await getAll<School>('/v1/schools')).items
    .filter((s) => ctx.session.role !== 'vsh' || s.outOfArea)
    .sort((a, b) => (a.name ?? a.urn).localeCompare(b.name ?? b.urn));
  if (!schools.length)
    return h('p', { class: 'govuk-body' }, 'No out-of-area schools are registered, so there are no returns to show.');
  return filterForm(
    (q) => ctx.setQuery({ urn: q.urn }),
    h(
      'div',
      { class: 'govuk-form-group app-filters__item' },
      h('label', { class: 'govuk-label', for: 'returns-urn' }, 'School'),
      h('select', { class: 'govuk-select', id: 'returns-urn', name: 'urn' }, [
        h('option', { value: '', selected: !urn }, 'Choose a school'),
        ...schools.map((s) =>
          h('option', { value: s.urn, selected: s.urn === urn }, `${s.name ?? 'Unnamed school'} (URN ${s.urn})`),
        ),
      ]),
    ),
    h('div', { class: 'app-filters__item' }, h('button', { type: 'submit', class: 'govuk-button' }, 'Show returns')),
  );
}

export async function returnsPage(ctx: PageContext): Promise<PageResult> {
  const school = ctx.session.role === 'school';
  const urn = school ? undefined : (ctx.query.get('urn') ?? undefined);
  const [list, chooser] = await Promise.all([
    school || urn
      ? get<Page<ReturnItem>>(`/v1/returns${query({ urn, limit: 50, cursor: ctx.query.get('cursor') })}`)
      : undefined,
    school ? undefined : schoolChooser(ctx, urn),
  ]);
  return {
    title: 'Returns',
    body: [
      h('h1', { class: 'govuk-heading-l' }, 'Returns'),
      chooser ?? null,
      // Without a school chosen there is nothing to list yet (not "no returns").
      list ? returnsTable(list.items) : h('p', { class: 'govuk-body' }, 'Choose a school to see its returns.'),
      list?.nextCursor
        ? h(
            'p',
            { class: 'govuk-body' },
            h(
              'a',
              { class: 'govuk-link', href: `#/returns${query({ urn, cursor: list.nextCursor })}` },
              'Older returns',
            ),
          )
        : null,
    ],
  };
}

function statusBody(r: ReturnStatus): HTMLElement[] {
  const out: HTMLElement[] = [
    summaryList([
      ['Status', statusTag(r.status)],
      ['School', `URN ${r.urn}`],
      ['Format', r.format === 'ctf' ? 'Common Transfer File' : 'CSV'],
      ['Received', dateTime(r.receivedAt)],
      ['Processed', r.processedAt ? dateTime(r.processedAt) : 'Not yet'],
      ...(r.counts
        ? ([
            [
              'Rows',
              `${num(r.counts.rows)} rows: ${num(r.counts.accepted)} accepted, ${num(r.counts.rejected)} with errors`,
            ],
          ] as Array<[string, string]>)
        : []),
    ]),
  ];
  if (r.rejection) out.push(errorSummary(`Rejected: ${r.rejection.title}`, [{ text: r.rejection.detail }]));
  if (r.errors?.length) {
    out.push(
      h(
        'h2',
        { class: 'govuk-heading-m' },
        `${num(r.errors.length)} ${r.errors.length === 1 ? 'row error' : 'row errors'}`,
      ),
    );
    out.push(
      h(
        'p',
        { class: 'govuk-body' },
        'Correct these rows in your register and send them again. The header is line 1.',
        r.errorsTruncated ? ' Only the first errors are shown.' : '',
      ),
    );
    out.push(
      h(
        'div',
        { class: 'app-scroll' },
        table(
          'Row errors',
          [
            { header: 'Line', cell: (e) => String(e.line), numeric: true },
            { header: 'Field', cell: (e) => e.field },
            { header: 'Message', cell: (e) => e.message },
          ],
          r.errors,
          { captionClass: 'govuk-visually-hidden' },
        ),
      ),
    );
  }
  return out;
}

export async function returnPage(ctx: PageContext): Promise<PageResult> {
  const id = ctx.params[0];
  const first = await get<ReturnStatus>(`/v1/returns/${encodeURIComponent(id)}`);
  const live = h('div', { 'aria-live': 'polite' }, statusBody(first));
  const poll = async (delay: number) => {
    await new Promise((r) => setTimeout(r, delay));
    if (!live.isConnected) return;
    const r = await get<ReturnStatus>(`/v1/returns/${encodeURIComponent(id)}`).catch(() => undefined);
    if (!live.isConnected || !r) return;
    replace(live, statusBody(r));
    if (!FINAL.has(r.status)) void poll(Math.min(delay * 1.5, 5000));
  };
  if (!FINAL.has(first.status)) void poll(500);
  const downloadProblem = h('div', {});
  const fetchKept = async (): Promise<void> => {
    replace(downloadProblem);
    try {
      const blob = await fetchBlob(`/v1/returns/${encodeURIComponent(id)}/file`);
      const a = h('a', {
        href: URL.createObjectURL(blob),
        download: `${id}.${first.format === 'ctf' ? 'xml' : 'csv'}`,
      });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      const msg = err instanceof ApiError ? `${err.title}: ${err.detail ?? ''}` : (err as Error).message;
      replace(downloadProblem, errorSummary('The file could not be downloaded', [{ text: msg }]));
      downloadProblem.querySelector<HTMLElement>('.govuk-error-summary')?.focus();
    }
  };
  const download = [
    downloadProblem,
    h(
      'button',
      { type: 'button', class: 'govuk-button govuk-button--secondary', onclick: () => void fetchKept() },
      'Download the file as received',
    ),
  ];
  return {
    title: `Return ${id}`,
    body: [
      h('span', { class: 'govuk-caption-l' }, 'Return'),
      h('h1', { class: 'govuk-heading-l' }, id),
      live,
      download,
      h(
        'p',
        { class: 'govuk-body' },
        ctx.session.role === 'school' ? h('a', { class: 'govuk-link', href: '#/upload' }, 'Upload another file') : null,
      ),
    ],
  };
}
