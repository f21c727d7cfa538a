import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkUpn, makeUpn } from '../../../shared/domain/upn.js';
import { importCinCensus } from '../../../shared/formats/cin-census.js';

const FIXTURES = new URL('../../fixtures/formats/social-care/', import.meta.url);
const TODAY = '2026-11-22';
const UPN = makeUpn('999400124001');
const fixture = (name: string) => importCinCensus(readFileSync(new URL(name, FIXTURES)), { today: TODAY });

interface Referral {
  referral?: string;
  closure?: string;
  nfa?: string;
  plans?: { start?: string; end?: string }[];
}

function census(children: { ids?: string; referrals: Referral[] }[]): Buffer {
  const el = (name: string, v: string | undefined) => (v === undefined ? '' : `<${name}>${v}</${name}>`);
  const kids = children
    .map(
      (c) =>
        `<Child>\n<ChildIdentifiers>\n${c.ids ?? `<LAchildID>C1</LAchildID>\n<UPN>${UPN}</UPN>`}\n</ChildIdentifiers>\n` +
        c.referrals
          .map(
            (r) =>
              `<CINdetails>\n${el('CINreferralDate', r.referral)}\n${el('CINclosureDate', r.closure)}\n${el('ReferralNFA', r.nfa)}\n` +
              (r.plans ?? [])
                .map(
                  (p) =>
                    `<ChildProtectionPlans>\n${el('CPPstartDate', p.start)}\n${el('CPPendDate', p.end)}\n</ChildProtectionPlans>`,
                )
                .join('\n') +
              '\n</CINdetails>',
          )
          .join('\n') +
        '\n</Child>',
    )
    .join('\n');
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Message>\n<Header/>\n<Children>\n${kids}\n</Children>\n</Message>\n`,
  );
}
const run = (b: Buffer) => importCinCensus(b, { today: TODAY });

describe('importCinCensus on the DfE validator fixtures', () => {
  it('CIN_Census_2024.xml: reports both children, with line and field, and loads none of their 3 records', () => {
    const r = fixture('CIN_Census_2024.xml');
    expect(r.counts).toEqual({ records: 3, accepted: 0, rejected: 3 });
    expect(r.episodes).toEqual([]);
    expect(r.errors.map((e) => [e.line, e.record, e.field, e.code])).toEqual([
      [21, 'DfEX0000001', 'UPN', 'upn_check_letter'],
      [23, 'DfEX0000001', 'ChildIdentifiers', 'stray_text'],
      [62, 'DfEX0000001', 'CPPstartDate', 'plan_outside_referral'],
      [76, 'child_fails_assessments', 'UPNunknown', 'upn_unknown'],
    ]);
    expect(r.errors[1].message).toContain("'PersonBirthDate'");
    expect(r.errors[2].message).toContain('2022-02-17');
  });

  it('CIN_Census_2026.xml (deliberately malformed): same verdicts, every bad record reported, no crash', () => {
    const r = fixture('CIN_Census_2026.xml');
    expect(r.counts).toEqual({ records: 3, accepted: 0, rejected: 3 });
    expect(r.errors.map((e) => [e.line, e.code])).toEqual([
      [21, 'upn_check_letter'],
      [23, 'stray_text'],
      [62, 'plan_outside_referral'],
      [88, 'upn_unknown'],
    ]);
  });

  it('fake_CIN_data.xml (332 children): 402 referrals, 17 loaded, 385 rejected, each rejection reported', () => {
    const r = fixture('fake_CIN_data.xml');
    expect(r.counts).toEqual({ records: 402, accepted: 17, rejected: 385 });
    const codes = r.errors.reduce<Record<string, number>>((m, e) => ({ ...m, [e.code]: (m[e.code] ?? 0) + 1 }), {});
    expect(codes).toEqual({ upn_check_letter: 320, future_date: 4 });
    expect(r.errors.every((e) => e.line > 1 && e.file === 'cin-census.xml')).toBe(true);
  });

  it('fake_CIN_data.xml: every loaded referral is marked no further action, so none is a period in need', () => {
    const r = fixture('fake_CIN_data.xml');
    expect(r.episodes).toEqual([]);
    const text = readFileSync(new URL('fake_CIN_data.xml', FIXTURES), 'utf8');
    expect(text.match(/<ReferralNFA>true<\/ReferralNFA>/g)).toHaveLength(402);
  });

  it('fake_CIN_data.xml: the 12 children with valid UPNs are the ones whose records load', () => {
    const text = readFileSync(new URL('fake_CIN_data.xml', FIXTURES), 'utf8');
    const upns = [...text.matchAll(/<UPN>([^<]*)<\/UPN>/g)].map((m) => m[1]);
    expect(upns.filter((u) => checkUpn(u).ok)).toHaveLength(12);
    expect(fixture('fake_CIN_data.xml').errors.filter((e) => e.code === 'upn_check_letter')).toHaveLength(
      upns.length - 12,
    );
  });
});

describe('importCinCensus: periods in need and child protection plans', () => {
  it('makes a referral a cin episode from referral to closure, inclusive', () => {
    const r = run(census([{ referrals: [{ referral: '2024-01-10', closure: '2024-06-30', nfa: 'false' }] }]));
    expect(r.episodes).toEqual([
      {
        upn: UPN,
        cohort: 'cin',
        start: '2024-01-10',
        end: '2024-06-30',
        source: 'cin_census',
        ref: 'cin-census.xml line 10',
      },
    ]);
    expect(r.counts).toEqual({ records: 1, accepted: 1, rejected: 0 });
  });

  it('leaves a referral without closure open, and treats a missing ReferralNFA as acted on', () => {
    const r = run(census([{ referrals: [{ referral: '2024-01-10' }] }]));
    expect(r.episodes).toEqual([expect.objectContaining({ cohort: 'cin', start: '2024-01-10' })]);
    expect(r.episodes[0].end).toBeUndefined();
  });

  it('accepts a closure on the referral day (a one-day period)', () => {
    expect(
      run(census([{ referrals: [{ referral: '2024-01-10', closure: '2024-01-10', nfa: '0' }] }])).episodes,
    ).toHaveLength(1);
  });

  it('accepts a no-further-action referral (true or 1) but makes no period in need of it', () => {
    for (const nfa of ['true', '1', 'TRUE']) {
      const r = run(census([{ referrals: [{ referral: '2024-01-10', closure: '2024-01-10', nfa }] }]));
      expect(r.episodes, nfa).toEqual([]);
      expect(r.counts, nfa).toEqual({ records: 1, accepted: 1, rejected: 0 });
      expect(r.errors, nfa).toEqual([]);
    }
  });

  it('makes each child protection plan inside its referral a cpp episode, inclusive', () => {
    const r = run(
      census([
        {
          referrals: [
            {
              referral: '2024-01-10',
              closure: '2024-12-31',
              nfa: 'false',
              plans: [{ start: '2024-01-10', end: '2024-12-31' }, { start: '2024-03-01' }],
            },
          ],
        },
      ]),
    );
    expect(r.episodes.map((e) => [e.cohort, e.start, e.end])).toEqual([
      ['cin', '2024-01-10', '2024-12-31'],
      ['cpp', '2024-01-10', '2024-12-31'],
    ]);
    expect(r.counts).toEqual({ records: 3, accepted: 2, rejected: 1 });
    expect(r.errors.map((e) => e.code)).toEqual(['plan_outside_referral']); // open plan in a closed referral
  });

  it('rejects a plan that starts the day before its referral, and one inside a no-further-action referral', () => {
    const r = run(
      census([
        { referrals: [{ referral: '2024-01-10', nfa: 'false', plans: [{ start: '2024-01-09' }] }] },
        { referrals: [{ referral: '2024-01-10', nfa: 'true', plans: [{ start: '2024-01-10' }] }] },
      ]),
    );
    expect(r.errors.map((e) => [e.field, e.code])).toEqual([
      ['CPPstartDate', 'plan_outside_referral'],
      ['ChildProtectionPlans', 'plan_in_nfa_referral'],
    ]);
    expect(r.counts).toEqual({ records: 4, accepted: 2, rejected: 2 });
  });

  it('rejects a referral with bad dates, and its plans with it', () => {
    const cases: [Referral, string][] = [
      [{ referral: '2024-02-30' }, 'invalid_date'],
      [{ referral: '10/01/2024' }, 'invalid_date'],
      [{}, 'date_missing'],
      [{ referral: '2026-11-23' }, 'future_date'],
      [{ referral: '2024-01-10', closure: '2024-01-09' }, 'closure_before_referral'],
      [{ referral: '2024-01-10', nfa: 'maybe' }, 'invalid_value'],
    ];
    for (const [referral, code] of cases) {
      const r = run(census([{ referrals: [{ ...referral, plans: [{ start: '2024-02-01' }] }] }]));
      expect(r.episodes, code).toEqual([]);
      expect(
        r.errors.map((e) => e.code),
        code,
      ).toEqual([code, 'referral_rejected']);
      expect(r.counts, code).toEqual({ records: 2, accepted: 0, rejected: 2 });
    }
  });

  it('accepts a referral dated today', () => {
    expect(run(census([{ referrals: [{ referral: TODAY }] }])).episodes).toHaveLength(1);
  });

  it('rejects a plan whose end is before its start', () => {
    const r = run(
      census([{ referrals: [{ referral: '2024-01-10', plans: [{ start: '2024-03-01', end: '2024-02-01' }] }] }]),
    );
    expect(r.errors.map((e) => [e.field, e.code])).toEqual([['CPPendDate', 'end_before_start']]);
  });
});

describe('importCinCensus: identity', () => {
  const referrals = [{ referral: '2024-01-10', plans: [{ start: '2024-02-01' }] }];

  it('rejects all records of a child with no UPN, naming how many', () => {
    const r = run(census([{ ids: '<LAchildID>X9</LAchildID>', referrals }]));
    expect(r.errors).toEqual([
      expect.objectContaining({
        record: 'X9',
        field: 'UPN',
        code: 'upn_missing',
        message: expect.stringContaining('2 records of this child not loaded'),
      }),
    ]);
    expect(r.counts).toEqual({ records: 2, accepted: 0, rejected: 2 });
  });

  it('rejects a child whose UPN is given together with a UPN-unknown code', () => {
    const r = run(census([{ ids: `<UPN>${UPN}</UPN><UPNunknown>UN4</UPNunknown>`, referrals }]));
    expect(r.errors.map((e) => [e.field, e.code])).toEqual([['UPNunknown', 'upn_conflict']]);
    expect(r.episodes).toEqual([]);
  });

  it('accepts a lower-case UPN and stores it upper-case', () => {
    const r = run(census([{ ids: `<UPN>${UPN.toLowerCase()}</UPN>`, referrals }]));
    expect(r.episodes.map((e) => e.upn)).toEqual([UPN, UPN]);
  });

  it('rejects a child with stray text anywhere inside it, at the text line', () => {
    const r = run(census([{ ids: `<UPN>${UPN}</UPN>\nsomething odd`, referrals }]));
    expect(r.errors).toEqual([expect.objectContaining({ line: 8, field: 'ChildIdentifiers', code: 'stray_text' })]);
    expect(r.episodes).toEqual([]);
  });
});

describe('importCinCensus: file errors', () => {
  it('rejects XML that is not a CIN census (422)', () => {
    const r = run(Buffer.from('<CTfile><Header/></CTfile>'));
    expect(r.fileError).toMatchObject({ status: 422, code: 'not_cin_census' });
    expect(r.counts).toEqual({ records: 0, accepted: 0, rejected: 0 });
  });

  it('rejects a DTD, a truncated file and binary junk before reading any child', () => {
    const good = census([{ referrals: [{ referral: '2024-01-10' }] }]).toString();
    expect(
      run(
        Buffer.from(good.replace('<Message>', '<!DOCTYPE Message [<!ENTITY x SYSTEM "file:///etc/passwd">]><Message>')),
      ).fileError,
    ).toMatchObject({ status: 400, code: 'xml_doctype' });
    const cut = run(Buffer.from(good.slice(0, good.length - 40)));
    expect(cut.fileError).toMatchObject({ status: 400, code: 'xml_truncated' });
    expect(cut.errors[0].line).toBeGreaterThan(1);
    expect(run(Buffer.from([0x00, 0x00, 0xfe])).fileError?.status).toBe(415);
  });

  it('never throws on random bytes, and accounts for every record on random referral data (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const r = run(Buffer.from(bytes));
        expect(r.counts.accepted + r.counts.rejected).toBe(r.counts.records);
      }),
      { numRuns: 150 },
    );
    const date = fc.constantFrom(undefined, '2024-01-10', '2024-06-30', '2030-01-01', 'x');
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            referral: date,
            closure: date,
            nfa: fc.constantFrom(undefined, 'true', 'false', '?'),
            plans: fc.array(fc.record({ start: date, end: date }), { maxLength: 2 }),
          }),
          { maxLength: 4 },
        ),
        (referrals) => {
          const r = run(census([{ referrals }]));
          expect(r.counts.accepted + r.counts.rejected).toBe(r.counts.records);
          for (const e of r.episodes) if (e.end !== undefined) expect(e.end >= e.start).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
