import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLa } from '../../../local/synthetic/index.js';
import { sampleReturnCsv, sampleReturnFromDemo } from '../../../local/sample-return.js';
import { parseDailyReturnCsv } from '../../../shared/formats/daily-return-csv.js';

describe('the sample return npm start prints a curl for', () => {
  let dir: string;
  let urn: string;
  let lastFile: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sample-return-'));
    await generateLa({
      schools: 4,
      pupils: 300,
      from: '2026-11-02',
      to: '2026-11-06',
      seed: 'sample',
      out: dir,
      laCode: '999',
    });
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      files: Array<{ path: string; urn: string; role: string; kind: string; date: string }>;
    };
    const daily = manifest.files.filter((f) => f.kind === 'daily' && f.role === 'school');
    urn = daily[0].urn;
    lastFile = daily.filter((f) => f.urn === urn).at(-1)!.path;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is the demo school's own pupils on the next weekday, every row valid", () => {
    const csv = sampleReturnFromDemo(dir, urn, '2026-11-09');
    expect(csv).toBeDefined();
    const parsed = parseDailyReturnCsv(Buffer.from(csv!), { today: '2026-11-09' });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.errors).toEqual([]);
    const demoUpns = readFileSync(join(dir, lastFile), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[1])
      .sort();
    expect(parsed.rows.map((r) => r.upn).sort()).toEqual(demoUpns);
    expect(new Set(parsed.rows.map((r) => r.date))).toEqual(new Set(['2026-11-09']));
    expect(new Set(parsed.rows.map((r) => r.urn))).toEqual(new Set([urn]));
    // A spread of codes, not a copy of the demo's day.
    expect(new Set(parsed.rows.map((r) => r.am)).size).toBeGreaterThan(2);
  });

  it("falls back (undefined) when there is no demo, or the day is not after the demo's last", () => {
    expect(sampleReturnFromDemo(join(dir, 'nothing-here'), urn, '2026-11-09')).toBeUndefined();
    expect(sampleReturnFromDemo(dir, urn, '2026-11-06')).toBeUndefined();
    expect(sampleReturnFromDemo(dir, '999999', '2026-11-09')).toBeUndefined();
  });

  it('the stand-alone sample parses cleanly too', () => {
    const parsed = parseDailyReturnCsv(Buffer.from(sampleReturnCsv('100001', '999', '2026-11-09')), {
      today: '2026-11-09',
    });
    expect(parsed.ok && parsed.errors.length === 0 && parsed.rows.length === 30).toBe(true);
  });
});
