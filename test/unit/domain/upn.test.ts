import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkUpn, isValidUpn, makeUpn, upnCheckLetter, UPN_LETTERS } from '../../../shared/domain/upn.js';

// The docs/design.md §6 algorithm written out again, as plainly as possible, to check the code against.
const LETTERS = 'ABCDEFGHJKLMNPQRTUVWXYZ';
function oracleCheckLetter(body12: string): string {
  let sum = 0;
  for (let position = 2; position <= 13; position++) {
    const ch = body12[position - 2];
    const value = /\d/.test(ch) ? Number(ch) : LETTERS.indexOf(ch);
    sum += position * value;
  }
  return LETTERS[sum % 23];
}

const digits = (n: number) =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: n, maxLength: n }).map((a) => a.join(''));
const permanentBody = digits(12);
const temporaryBody = fc.tuple(digits(11), fc.constantFrom(...LETTERS)).map(([d, l]) => d + l);

describe('UPN check letter (docs/design.md §6)', () => {
  it('accepts the design example B801200005001', () => {
    expect(checkUpn('B801200005001')).toEqual({ ok: true, upn: 'B801200005001', temporary: false });
    expect(upnCheckLetter('801200005001')).toBe('B');
  });

  it('numbers the 23 letters without I, O and S', () => {
    expect(UPN_LETTERS).toBe(LETTERS);
    expect(UPN_LETTERS).toHaveLength(23);
  });

  it('computes the letter at (sum of position × value over positions 2–13) mod 23, for any permanent body', () => {
    fc.assert(fc.property(permanentBody, (body) => upnCheckLetter(body) === oracleCheckLetter(body)));
  });

  it("values a temporary UPN's final letter by its number in the letter list", () => {
    fc.assert(fc.property(temporaryBody, (body) => upnCheckLetter(body) === oracleCheckLetter(body)));
    // 'A' is worth 0, so it checks like a final '0'; 'B' like a final '1'.
    expect(upnCheckLetter('80120000500A')).toBe(upnCheckLetter('801200005000'));
    expect(upnCheckLetter('80120000500B')).toBe(upnCheckLetter('801200005001'));
  });

  it('accepts every UPN built by makeUpn, and rejects it with any other first letter', () => {
    fc.assert(
      fc.property(fc.oneof(permanentBody, temporaryBody), fc.constantFrom(...LETTERS), (body, letter) => {
        const upn = makeUpn(body);
        if (!isValidUpn(upn)) return false;
        return isValidUpn(letter + body) === (letter === upn[0]);
      }),
    );
  });

  it('marks a UPN ending in a letter as temporary', () => {
    const upn = makeUpn('80120000500A');
    expect(checkUpn(upn)).toEqual({ ok: true, upn, temporary: true });
  });

  it('accepts lower case and surrounding spaces, returning the canonical upper-case UPN', () => {
    expect(checkUpn(' b801200005001 ')).toEqual({ ok: true, upn: 'B801200005001', temporary: false });
  });

  it('rejects a wrong check letter naming the letter the digits require', () => {
    expect(checkUpn('A801200005001')).toEqual({
      ok: false,
      message: "UPN check letter is 'A' but the digits require 'B'",
    });
  });

  it('rejects the wrong length with the length found', () => {
    expect(checkUpn('B80120000500')).toEqual({ ok: false, message: 'UPN must be 13 characters, got 12' });
    expect(checkUpn('B8012000050011')).toEqual({ ok: false, message: 'UPN must be 13 characters, got 14' });
    expect(checkUpn('')).toEqual({ ok: false, message: 'UPN must be 13 characters, got 0' });
  });

  it('rejects a malformed UPN by its shape (letters in the digits, a digit first)', () => {
    const shape = { ok: false, message: 'UPN must be a check letter, 11 digits, then a digit or letter' };
    expect(checkUpn('B8012000X5001')).toEqual(shape);
    expect(checkUpn('1801200005001')).toEqual(shape);
    expect(checkUpn('B80120000500-')).toEqual(shape);
  });

  it('rejects a temporary UPN ending in I, O or S (letters UPNs never use)', () => {
    for (const last of ['I', 'O', 'S']) {
      expect(checkUpn(`A80120000500${last}`)).toEqual({
        ok: false,
        message: `UPN's final character '${last}' is not a permitted letter`,
      });
      expect(upnCheckLetter(`80120000500${last}`)).toBeUndefined();
    }
  });

  it('refuses to make a UPN from a body that is not 11 digits and a digit or letter', () => {
    expect(() => makeUpn('8012000050')).toThrow(RangeError);
    expect(() => makeUpn('80120000500I')).toThrow(RangeError);
  });

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 20 }), (s) => typeof checkUpn(s).ok === 'boolean'));
  });
});
