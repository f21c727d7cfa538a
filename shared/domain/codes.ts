/**
 * DfE attendance codes (docs/design.md §2.1): the 2024 code set in force from 19 August 2024, plus the
 * legacy codes accepted only for earlier dates, and their statistical category.
 *
 * Internally every session is one character (see MARK_CHAR) so a pupil's academic year is a
 * fixed-length string; two-character codes (C1, C2, J1, Y1–Y7) get their own single character.
 */

export type CodeCategory =
  'present' | 'approved_activity' | 'authorised' | 'unauthorised' | 'not_possible' | 'administrative';

/** First date on which the 2024 code set applies; legacy codes are row errors from this date. */
export const CODE_SET_2024_FROM = '2024-08-19';

export const CODE_CATEGORY: Readonly<Record<string, CodeCategory>> = {
  '/': 'present',
  '\\': 'present',
  L: 'present',
  K: 'approved_activity',
  V: 'approved_activity',
  P: 'approved_activity',
  W: 'approved_activity',
  B: 'approved_activity',
  C: 'authorised',
  C1: 'authorised',
  C2: 'authorised',
  E: 'authorised',
  I: 'authorised',
  J1: 'authorised',
  M: 'authorised',
  R: 'authorised',
  S: 'authorised',
  T: 'authorised',
  G: 'unauthorised',
  N: 'unauthorised',
  O: 'unauthorised',
  U: 'unauthorised',
  D: 'not_possible',
  Q: 'not_possible',
  X: 'not_possible',
  Y1: 'not_possible',
  Y2: 'not_possible',
  Y3: 'not_possible',
  Y4: 'not_possible',
  Y5: 'not_possible',
  Y6: 'not_possible',
  Y7: 'not_possible',
  Z: 'administrative',
  '#': 'administrative',
  // Legacy (before 19 Aug 2024): H authorised holiday, F extended family holiday (authorised),
  // J interview (approved activity in the old set), Y enforced closure (not possible).
  H: 'authorised',
  F: 'authorised',
  J: 'approved_activity',
  Y: 'not_possible',
};

export const LEGACY_CODES: ReadonlySet<string> = new Set(['H', 'F', 'J', 'Y']);

/** Every code, in a stable order (used for compact arrays of counts). */
export const ALL_CODES: readonly string[] = Object.keys(CODE_CATEGORY);

/** Marks meaning "not yet marked": not a possible session, a data-quality gap for the school. */
const UNMARKED_INPUTS: ReadonlySet<string> = new Set(['', '-']);

/** Character stored for a session with no row at all (the pupil was not in that day's return). */
export const NO_MARK = '.';
/** Character stored for a session listed but not yet marked (empty or `-`). */
export const UNMARKED = '-';

const TWO_CHAR: Readonly<Record<string, string>> = {
  C1: '1',
  C2: '2',
  J1: '3',
  Y1: 'a',
  Y2: 'b',
  Y3: 'c',
  Y4: 'd',
  Y5: 'e',
  Y6: 'f',
  Y7: 'g',
};

/** code → the single character stored for it. */
export const MARK_CHAR: Readonly<Record<string, string>> = Object.fromEntries(
  ALL_CODES.map((code) => [code, TWO_CHAR[code] ?? code]),
);
/** stored character → code. */
export const CODE_OF_CHAR: Readonly<Record<string, string>> = Object.fromEntries(
  ALL_CODES.map((code) => [MARK_CHAR[code], code]),
);

export function isKnownCode(code: string): boolean {
  return Object.prototype.hasOwnProperty.call(CODE_CATEGORY, code);
}

export function categoryOf(code: string): CodeCategory | undefined {
  return isKnownCode(code) ? CODE_CATEGORY[code] : undefined;
}

/** Whether the code counts in possible sessions (present, approved activity, authorised or unauthorised). */
export function isPossible(code: string): boolean {
  const c = categoryOf(code);
  return c === 'present' || c === 'approved_activity' || c === 'authorised' || c === 'unauthorised';
}

export function isAbsence(code: string): boolean {
  const c = categoryOf(code);
  return c === 'authorised' || c === 'unauthorised';
}

/** Late sessions = L (late before registers closed, present) + U (late after, unauthorised). */
export function isLate(code: string): boolean {
  return code === 'L' || code === 'U';
}

export type MarkCheck =
  | { ok: true; mark: string /* stored character */; code: string | null /* null when unmarked */ }
  | { ok: false; message: string };

/**
 * Validate one AM/PM mark as received for a date. Codes are case-sensitive in the DfE set except
 * that lower-case letters are accepted and normalised (MIS exports vary).
 */
export function checkMark(raw: string, date: string): MarkCheck {
  const trimmed = raw.trim();
  if (UNMARKED_INPUTS.has(trimmed)) return { ok: true, mark: UNMARKED, code: null };
  const code = trimmed.length <= 2 ? trimmed.toUpperCase() : trimmed;
  if (!isKnownCode(code)) {
    return {
      ok: false,
      message: `unknown attendance code '${truncate(trimmed)}'; expected a DfE code such as /, \\, L, I, M, N, G or empty when not yet marked`,
    };
  }
  if (LEGACY_CODES.has(code) && date >= CODE_SET_2024_FROM) {
    return {
      ok: false,
      message: `legacy code '${code}' is not valid on or after ${CODE_SET_2024_FROM} (2024 code set)`,
    };
  }
  return { ok: true, mark: MARK_CHAR[code], code };
}

function truncate(s: string): string {
  return s.length > 12 ? `${s.slice(0, 12)}…` : s;
}
