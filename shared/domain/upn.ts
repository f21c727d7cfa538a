/**
 * Unique Pupil Number (docs/design.md §6): 13 characters. Character 1 is a check letter; 2–4 LA code,
 * 5–8 establishment, 9–10 year, 11–13 serial, where a temporary UPN ends in a letter.
 * Check letter: letters ABCDEFGHJKLMNPQRTUVWXYZ numbered 0–22; sum (position × value) over
 * positions 2–13; the check letter is the list's letter at (sum mod 23).
 */

export const UPN_LETTERS = 'ABCDEFGHJKLMNPQRTUVWXYZ';

const UPN_SHAPE = /^[A-Z]\d{11}[0-9A-Z]$/;

export function upnCheckLetter(body12: string): string | undefined {
  if (!/^\d{11}[0-9A-Z]$/.test(body12)) return undefined;
  let sum = 0;
  for (let i = 0; i < 12; i++) {
    const ch = body12[i];
    let value: number;
    if (ch >= '0' && ch <= '9') value = ch.charCodeAt(0) - 48;
    else {
      value = UPN_LETTERS.indexOf(ch);
      if (value < 0) return undefined; // I, O, S are not used in UPNs
    }
    sum += (i + 2) * value;
  }
  return UPN_LETTERS[sum % 23];
}

export type UpnCheck = { ok: true; upn: string; temporary: boolean } | { ok: false; message: string };

export function checkUpn(raw: string): UpnCheck {
  const upn = raw.trim().toUpperCase();
  if (upn.length !== 13) return { ok: false, message: `UPN must be 13 characters, got ${upn.length}` };
  if (!UPN_SHAPE.test(upn)) {
    return { ok: false, message: 'UPN must be a check letter, 11 digits, then a digit or letter' };
  }
  const expected = upnCheckLetter(upn.slice(1));
  if (expected === undefined)
    return { ok: false, message: `UPN's final character '${upn[12]}' is not a permitted letter` };
  if (expected !== upn[0])
    return { ok: false, message: `UPN check letter is '${upn[0]}' but the digits require '${expected}'` };
  return { ok: true, upn, temporary: /[A-Z]$/.test(upn) };
}

export function isValidUpn(raw: string): boolean {
  return checkUpn(raw).ok;
}

/** Build a valid UPN from its 12-character body (LA code, establishment, year, serial). */
export function makeUpn(body12: string): string {
  const letter = upnCheckLetter(body12);
  if (!letter) throw new RangeError(`cannot make a UPN from '${body12}'`);
  return letter + body12;
}
