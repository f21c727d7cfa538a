/**
 * What a use case answers (docs/design.md §3): a result, or a refusal saying why in the domain's
 * terms. The API maps refusals to problems (404, 403, 409, 412…); other doors (CLI, bench) read them
 * as they are. Use cases never throw for a refusal: a throw is a fault.
 */
import type { FileError } from '../formats/csv.js';

/** Why a use case refused, in terms a caller can act on. */
export type RefusalKind =
  /** Unknown, or outside the caller's scope (answered as unknown, so existence is not revealed). */
  | 'not_found'
  /** Known and in scope, but this caller may not do this to it. */
  | 'forbidden'
  /** The input is malformed or inconsistent (400). */
  | 'invalid'
  /** Well formed but not acceptable as a whole (422): a file with no usable rows, several schools… */
  | 'unacceptable'
  /** The thing's state does not allow it (409): a transition the case's status does not have. */
  | 'conflict'
  /** The caller's copy is out of date (412): the version they read has moved on. */
  | 'stale'
  /** The caller must say which version they change (428). */
  | 'version_required'
  /** Too big for this way in (413). */
  | 'too_large'
  /** Not a kind of input this accepts (415). */
  | 'unsupported';

export interface Refusal {
  refused: RefusalKind;
  detail: string;
  /** A title when the refusal has a more specific one than its kind's. */
  title?: string;
  /** Per-field or per-line reasons. */
  errors?: Array<{ field?: string; line?: number; code?: string; message: string }>;
  /** Further members of the answer (a quarantined return's id and code, the allowed transitions…). */
  extra?: Record<string, unknown>;
}

export type Outcome<T> = { ok: true; value: T } | ({ ok: false } & Refusal);

export function done<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function refuse(
  refused: RefusalKind,
  detail: string,
  more: Omit<Refusal, 'refused' | 'detail'> = {},
): { ok: false } & Refusal {
  return { ok: false, refused, detail, ...more };
}

const REFUSAL_OF_STATUS: Record<FileError['status'], RefusalKind> = {
  400: 'invalid',
  403: 'forbidden',
  413: 'too_large',
  415: 'unsupported',
  422: 'unacceptable',
};

/** A file refused whole (its status, title, code and at most `errorsKept` row errors) as a refusal. */
export function refuseFile(e: FileError, extra: Record<string, unknown>, errorsKept = 100): { ok: false } & Refusal {
  return refuse(REFUSAL_OF_STATUS[e.status], e.detail, {
    title: e.title,
    ...(e.errors ? { errors: e.errors.slice(0, errorsKept) } : {}),
    extra: { ...extra, code: e.code },
  });
}
