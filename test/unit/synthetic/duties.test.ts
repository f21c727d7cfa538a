/**
 * The synthetic LA plants the LA's other duties (issue 20; local/synthetic/duties.ts) in its files
 * and its ground truth: joiners notified late, deletions with a ground and destination, leavers to an
 * unknown destination, children who never arrive at the school named.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dutyMeetsTargets, loadGeneratedLa } from '../../../bin/commands/evaluate.js';
import { evaluateDuties } from '../../../bin/commands/evaluate-duties.js';
import { generateLa } from '../../../local/synthetic/index.js';
import type { PlantedDeletion, PlantedLateEntry } from '../../../local/synthetic/duties.js';

const dir = mkdtempSync(join(tmpdir(), 'synthetic-duties-'));
let duties: { lateEntries: PlantedLateEntry[]; deletions: PlantedDeletion[] };
let moves: Array<{ upn: string; from: string; to?: string; leaving: string }>;
let outOfAreaPupils: Set<string>;

/** Every row of a pupil at a school, as [date, admission_date, leaving_date, deletion_ground, destination], in date order. */
function rowsOf(upn: string, urn: string): string[][] {
  const out: string[][] = [];
  for (const day of readdirSync(join(dir, 'returns')).sort()) {
    let text: string;
    try {
      text = readFileSync(join(dir, 'returns', day, `${urn}.csv`), 'utf8');
    } catch {
      continue;
    }
    const [head, ...lines] = text.split('\n');
    const cols = head.split(',');
    const at = (name: string) => cols.indexOf(name);
    for (const l of lines) {
      const f = l.split(',');
      if (f[1] === upn)
        out.push([
          f[at('date')],
          f[at('admission_date')],
          f[at('leaving_date')],
          f[at('deletion_ground')],
          f[at('destination')],
        ]);
    }
  }
  return out;
}

beforeAll(async () => {
  await generateLa({ schools: 8, pupils: 2000, from: '2025-09-01', to: '2026-02-13', seed: 'duties', out: dir });
  const truth = JSON.parse(readFileSync(join(dir, 'ground-truth.json'), 'utf8'));
  duties = truth.operations.duties;
  moves = truth.operations.moves;
  outOfAreaPupils = new Set(truth.operations.outOfAreaPupils.map((p: { upn: string }) => p.upn));
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the synthetic LA plants the admission-register duties', () => {
  it('lists late-notified joiners from a first date 6–12 school days after the admission date their rows state', () => {
    expect(duties.lateEntries.length).toBeGreaterThan(0);
    for (const e of duties.lateEntries) {
      const rows = rowsOf(e.upn, e.urn);
      expect(rows[0][0], e.upn).toBe(e.firstListed);
      expect(rows[0][1], e.upn).toBe(e.admission);
      expect(e.admission < e.firstListed).toBe(true);
      expect(e.schoolDays).toBeGreaterThanOrEqual(6);
      expect(e.schoolDays).toBeLessThanOrEqual(12);
    }
  });

  it("states the ground and destination on every move's leaving row, and plants leavers to unknown and children who never arrive", () => {
    const kinds = new Set(duties.deletions.map((d) => d.plant));
    expect(kinds).toEqual(new Set(['moved', 'unknown_destination', 'never_arrives']));
    // Every move of a child the LA's schools hold (placements out of area are the Virtual School's).
    expect(new Set(duties.deletions.map((d) => `${d.upn}@${d.urn}`))).toEqual(
      new Set(moves.filter((m) => !outOfAreaPupils.has(m.upn)).map((m) => `${m.upn}@${m.from}`)),
    );
    for (const d of duties.deletions) {
      const last = rowsOf(d.upn, d.urn).at(-1)!;
      expect(last[2], d.upn).toBe(d.leaving);
      expect(last[3], d.upn).toBe(d.ground);
      expect(last[4], d.upn).toBe(d.destination === 'unknown' ? 'UNKNOWN' : d.destination);
      if (d.plant === 'never_arrives') expect(rowsOf(d.upn, d.destination), d.upn).toEqual([]);
      if (d.plant === 'moved') expect(rowsOf(d.upn, d.destination).length, d.upn).toBeGreaterThan(0);
    }
  });
});

describe('npm run evaluate scores the duties against the ground truth', () => {
  it('finds every planted late entry, deletion, child missing education and long part-time timetable, and nothing else', () => {
    const la = loadGeneratedLa(dir);
    const scores = evaluateDuties(dir, la, la.received);
    expect(scores.map((s) => s.name)).toEqual([
      'new_entry_late',
      'deletion',
      'children_missing_education',
      'part_time_past_review',
    ]);
    for (const s of scores) {
      expect(s.tp, s.name).toBeGreaterThan(0);
      expect(dutyMeetsTargets(s), `${s.name}: ${JSON.stringify(s)}`).toBe(true);
    }
  }, 60_000);
});
