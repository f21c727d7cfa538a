import { describe, expect, it } from 'vitest';
import {
  ALL_CODES,
  categoryOf,
  checkMark,
  CODE_OF_CHAR,
  CODE_SET_2024_FROM,
  isAbsence,
  isKnownCode,
  isLate,
  isPossible,
  LEGACY_CODES,
  MARK_CHAR,
  NO_MARK,
  UNMARKED,
} from '../../../shared/domain/codes.js';

// docs/design.md §2.1, the table of categories, written out here independently of the code under test.
const TABLE: Record<string, string[]> = {
  present: ['/', '\\', 'L'],
  approved_activity: ['K', 'V', 'P', 'W', 'B'],
  authorised: ['C', 'C1', 'C2', 'E', 'I', 'J1', 'M', 'R', 'S', 'T'],
  unauthorised: ['G', 'N', 'O', 'U'],
  not_possible: ['D', 'Q', 'X', 'Y1', 'Y2', 'Y3', 'Y4', 'Y5', 'Y6', 'Y7'],
  administrative: ['Z', '#'],
};
const LEGACY: Record<string, string> = { H: 'authorised', F: 'authorised', J: 'approved_activity', Y: 'not_possible' };
const POSSIBLE_CATEGORIES = new Set(['present', 'approved_activity', 'authorised', 'unauthorised']);

const BEFORE = '2024-08-18';
const FROM = '2024-08-19';

describe('DfE code categories (docs/design.md §2.1)', () => {
  for (const [category, codes] of Object.entries(TABLE)) {
    for (const code of codes) {
      it(`puts '${code}' in ${category}${POSSIBLE_CATEGORIES.has(category) ? ' (a possible session)' : ' (not a possible session)'}`, () => {
        expect(categoryOf(code)).toBe(category);
        expect(isPossible(code)).toBe(POSSIBLE_CATEGORIES.has(category));
        expect(isAbsence(code)).toBe(category === 'authorised' || category === 'unauthorised');
      });
    }
  }

  for (const [code, category] of Object.entries(LEGACY)) {
    it(`puts legacy '${code}' in ${category}`, () => {
      expect(categoryOf(code)).toBe(category);
      expect(LEGACY_CODES.has(code)).toBe(true);
    });
  }

  it('knows exactly the 2024 code set plus the four legacy codes, and nothing else', () => {
    const expected = [...Object.values(TABLE).flat(), ...Object.keys(LEGACY)].sort();
    expect([...ALL_CODES].sort()).toEqual(expected);
    expect([...LEGACY_CODES].sort()).toEqual(['F', 'H', 'J', 'Y']);
  });

  it('knows no code outside the set (A, Y8, C3, J2, lower-case, inherited object keys)', () => {
    for (const code of ['A', 'Y8', 'C3', 'J2', 'l', 'toString', 'constructor', '__proto__', '']) {
      expect(isKnownCode(code)).toBe(false);
      expect(categoryOf(code)).toBeUndefined();
      expect(isPossible(code)).toBe(false);
    }
  });

  it('counts late sessions as L (present) plus U (unauthorised) only', () => {
    expect(ALL_CODES.filter(isLate).sort()).toEqual(['L', 'U']);
    expect(categoryOf('L')).toBe('present');
    expect(categoryOf('U')).toBe('unauthorised');
  });
});

describe('stored mark characters', () => {
  it('stores each two-character code as its own single character', () => {
    expect(MARK_CHAR).toMatchObject({
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
    });
  });

  it('stores each one-character code as itself', () => {
    for (const code of ALL_CODES.filter((c) => c.length === 1)) expect(MARK_CHAR[code]).toBe(code);
  });

  it('gives every code a distinct single character that maps back to it', () => {
    const chars = ALL_CODES.map((c) => MARK_CHAR[c]);
    for (const ch of chars) expect(ch).toHaveLength(1);
    expect(new Set(chars).size).toBe(ALL_CODES.length);
    for (const code of ALL_CODES) expect(CODE_OF_CHAR[MARK_CHAR[code]]).toBe(code);
  });

  it('keeps the no-row and unmarked characters apart from every code', () => {
    expect(NO_MARK).toBe('.');
    expect(UNMARKED).toBe('-');
    expect(CODE_OF_CHAR[NO_MARK]).toBeUndefined();
    expect(CODE_OF_CHAR[UNMARKED]).toBeUndefined();
  });
});

describe('checkMark', () => {
  it('accepts every 2024 code on the day the code set came into force', () => {
    for (const code of Object.values(TABLE).flat()) {
      expect(checkMark(code, FROM)).toEqual({ ok: true, mark: MARK_CHAR[code], code });
    }
  });

  it('dates the 2024 code set from 2024-08-19', () => {
    expect(CODE_SET_2024_FROM).toBe('2024-08-19');
  });

  for (const code of Object.keys(LEGACY)) {
    it(`accepts legacy '${code}' on 2024-08-18 and rejects it on 2024-08-19 and later`, () => {
      expect(checkMark(code, BEFORE)).toEqual({ ok: true, mark: code, code });
      expect(checkMark(code, '2019-01-07')).toMatchObject({ ok: true, code });
      for (const date of [FROM, '2025-09-01']) {
        const r = checkMark(code, date);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.message).toBe(`legacy code '${code}' is not valid on or after 2024-08-19 (2024 code set)`);
      }
    });
  }

  it('normalises lower-case codes to the DfE code (c1 → C1, y7 → Y7, n → N)', () => {
    expect(checkMark('c1', FROM)).toEqual({ ok: true, mark: '1', code: 'C1' });
    expect(checkMark('j1', FROM)).toEqual({ ok: true, mark: '3', code: 'J1' });
    expect(checkMark('y7', FROM)).toEqual({ ok: true, mark: 'g', code: 'Y7' });
    expect(checkMark('n', FROM)).toEqual({ ok: true, mark: 'N', code: 'N' });
    expect(checkMark('h', BEFORE)).toEqual({ ok: true, mark: 'H', code: 'H' });
    expect(checkMark('h', FROM).ok).toBe(false);
  });

  it('ignores surrounding spaces', () => {
    expect(checkMark(' / ', FROM)).toEqual({ ok: true, mark: '/', code: '/' });
  });

  it('reads empty and "-" as not yet marked (stored "-", no code)', () => {
    for (const raw of ['', '-', '  ', ' - '])
      expect(checkMark(raw, FROM)).toEqual({ ok: true, mark: UNMARKED, code: null });
  });

  it('rejects an unknown code with a message naming it and what was expected', () => {
    const r = checkMark('A', FROM);
    expect(r).toEqual({
      ok: false,
      message:
        "unknown attendance code 'A'; expected a DfE code such as /, \\, L, I, M, N, G or empty when not yet marked",
    });
  });

  it('rejects codes that only look like codes (Y8, C 1, //, "--") and cuts long values short', () => {
    for (const raw of ['Y8', 'C 1', '//', '--', 'present', '.']) expect(checkMark(raw, FROM).ok).toBe(false);
    const r = checkMark('ABSENT-ALL-DAY-TODAY', FROM);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain("'ABSENT-ALL-D…'");
  });
});
