/**
 * The patterns use cases against in-memory stores (docs/design.md §2.6): the Virtual School sees only
 * findings about its own children (a family only when every child named is), no school coding
 * finding; a run that cannot be started is recorded as failed, not lost.
 */
import { describe, expect, it } from 'vitest';
import { listPatternFindings, type PatternFindingsDeps } from '../../../shared/app/pattern-findings.js';
import { readPatternRun, requestPatternRun } from '../../../shared/app/pattern-runs.js';
import type { PatternRuns } from '../../../shared/app/ports.js';
import type { Principal } from '../../../shared/domain/access.js';
import type { PatternFinding } from '../../../shared/domain/patterns/index.js';
import type { PupilRow } from '../../../shared/domain/school-view.js';
import type { PatternRun } from '../../../shared/store/patterns.js';
import { A, B, YEAR } from './fixtures.js';
import { Trail } from './memory.js';

const officer: Principal = { sub: 'o1', role: 'la_officer', la: '999' };
const vsh: Principal = { sub: 'v1', role: 'vsh', la: '999' };
const admin: Principal = { sub: 'ad1', role: 'admin', la: '999' };

const statistic = (value: number) => ({ name: 'p', value, threshold: 0.05, flaggedWhen: 'at_most' as const });
const FINDINGS = [
  { type: 'school_coding', urn: A, from: '2025-09-01', to: '2025-10-01', statistic: statistic(0.01) },
  {
    type: 'holiday_adjacent_absence',
    upn: 'CLA01',
    urn: A,
    urns: [A],
    from: '2025-09-01',
    to: '2025-10-01',
    statistic: statistic(0.02),
  },
  {
    type: 'holiday_adjacent_absence',
    upn: 'OTHER',
    urn: B,
    urns: [B],
    from: '2025-09-01',
    to: '2025-10-01',
    statistic: statistic(0.01),
  },
  {
    type: 'family_pattern',
    urn: A,
    urns: [A, B],
    children: [{ upn: 'CLA01' }, { upn: 'OTHER' }],
    from: '2025-09-01',
    to: '2025-10-01',
    statistic: statistic(0.03),
  },
] as unknown as PatternFinding[];

function deps(): PatternFindingsDeps {
  const latest = {
    runId: 'pr1',
    finishedAt: '2025-10-02T00:00:00Z',
    academicYear: YEAR,
    period: { from: '2025-09-01', to: '2025-10-01' },
  };
  return {
    patterns: {
      latest: async () => latest,
      findings: async (runId) => ({
        runId,
        academicYear: YEAR,
        period: latest.period,
        generatedAt: latest.finishedAt,
        findings: FINDINGS,
      }),
    },
    laLists: {
      rows: async () => new Map(),
      all: async () => [{ upn: 'CLA01', everCohorts: ['cla'] } as unknown as PupilRow],
      page: async () => undefined,
      version: async () => 0,
    },
    virtualSchool: { careIndex: async () => new Map() },
  };
}

describe('pattern findings', () => {
  it('gives an LA officer every finding, by detector and strongest first', async () => {
    const out = await listPatternFindings(deps(), officer, {});
    if (!out.ok) throw new Error(out.detail);
    expect(out.value.items.map((f) => [f.type, 'upn' in f ? f.upn : f.urn])).toEqual([
      ['holiday_adjacent_absence', 'OTHER'],
      ['holiday_adjacent_absence', 'CLA01'],
      ['family_pattern', A],
      ['school_coding', A],
    ]);
    expect(out.value.run?.runId).toBe('pr1');
  });

  it("gives the Virtual School only its own children's findings: no family with another child, no school coding", async () => {
    const out = await listPatternFindings(deps(), vsh, {});
    if (!out.ok) throw new Error(out.detail);
    expect(out.value.items.map((f) => [f.type, 'upn' in f ? f.upn : f.urn])).toEqual([
      ['holiday_adjacent_absence', 'CLA01'],
    ]);
  });

  it('refuses dates the wrong way round', async () => {
    expect(await listPatternFindings(deps(), officer, { from: '2025-10-01', to: '2025-09-01' })).toMatchObject({
      ok: false,
      refused: 'invalid',
      errors: [{ field: 'from' }],
    });
  });
});

class MemoryRuns implements PatternRuns {
  readonly runs = new Map<string, PatternRun>();
  constructor(private readonly startFails = false) {}
  async create(run: PatternRun) {
    this.runs.set(run.runId, run);
  }
  async get(runId: string) {
    return this.runs.get(runId);
  }
  async update(runId: string, changes: Partial<PatternRun>) {
    this.runs.set(runId, { ...this.runs.get(runId)!, ...changes });
  }
  async start() {
    if (this.startFails) throw new Error('no patterns function');
  }
}

describe('runs on demand', () => {
  it('records a run and starts it, noting it accepted; the run is then read by its id', async () => {
    const patternRuns = new MemoryRuns();
    const audit = new Trail();
    const { runId, started } = await requestPatternRun(
      { patternRuns },
      { principal: admin, audit },
      { academicYear: 2024 },
    );
    expect(started).toBe(true);
    expect(patternRuns.runs.get(runId)).toMatchObject({
      status: 'received',
      trigger: 'api',
      requestedBy: 'ad1',
      academicYear: 2024,
    });
    expect(await readPatternRun({ patternRuns }, audit, runId)).toMatchObject({ ok: true, value: { runId } });
    expect(audit.notes.map((n) => n.outcome)).toEqual(['accepted', 'ok']);
  });

  it('records a run that could not be started as failed, and answers a run id that is not one as not found', async () => {
    const patternRuns = new MemoryRuns(true);
    const audit = new Trail();
    const { runId, started } = await requestPatternRun({ patternRuns }, { principal: admin, audit }, {});
    expect(started).toBe(false);
    expect(patternRuns.runs.get(runId)).toMatchObject({
      status: 'failed',
      error: 'the patterns function could not be invoked',
    });
    expect(await readPatternRun({ patternRuns }, audit, '../x')).toMatchObject({ ok: false, refused: 'not_found' });
    expect(audit.notes).toEqual([
      { target: `patterns_run:${runId}`, outcome: 'failed' },
      { target: 'patterns_run:invalid', outcome: 'not_found' },
    ]);
  });
});
