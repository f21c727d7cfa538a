/**
 * What a referral search reads (issue 17): exact DynamoDB read units and items read for each kind of
 * search, over a store seeded with N cases written as the service wrote them before the per-facet
 * lists (the case item alone, listed in gsi1, and its history: the creation event with the evidence
 * and the latest change). When the store has the lists' back-fill
 * (`indexReferralLists`), it is run first, as a deployment would, and its own cost is counted too.
 * No clock is read: every figure is a count.
 *
 *   npx tsx bench/referral-search.ts --cases 1000,20000 [--schools 100] [--dir /tmp/search/rs]
 *
 * The cases: spread over `--schools` schools and about 0.8 × N pupils; 12 % still open (submitted,
 * triaged, allocated, in progress), the rest closed or withdrawn; 20 officers; 1 in 50 holds a
 * penalty notice not yet paid. Each case carries an evidence snapshot of the size the bench's cases
 * carry (about 6 KB: the full bench read 373 units for 500 cases).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_NAMES, ENV } from '../shared/config.js';
import type { Referral, ReferralStatus } from '../shared/domain/referrals.js';

type Args = { input: Record<string, unknown> };
type Result = { output: Record<string, unknown> };

const STATUSES: ReferralStatus[] = ['submitted', 'triaged', 'allocated', 'in_progress', 'closed', 'withdrawn'];
const TYPES = ['persistent_absence', 'severe_absence', 'penalty_notice_request', 'ten_day_unauthorised'] as const;

/** A deterministic case: number `i` of `n`, created `i` minutes after the first. */
export function syntheticCase(i: number, n: number, schools: number): Referral {
  const urn = String(100001 + (i % schools));
  const upn = `A${900_000_000_000 + Math.floor((i * 4) / 5)}`;
  const open = i % 25 < 3; // 12 %
  const status: ReferralStatus = open ? STATUSES[i % 4] : i % 7 === 0 ? 'withdrawn' : 'closed';
  const created = new Date(Date.UTC(2021, 8, 1) + i * 60_000 * Math.max(1, Math.floor(2_000_000 / n)));
  const createdAt = created.toISOString();
  const on = createdAt.slice(0, 10);
  const stats = { possible: 300, present: 240, authorised: 30, unauthorised: 30, late: 4, approvedActivity: 0 };
  const hasNotice = i % 50 === 7;
  return {
    id: `ref${String(i).padStart(21, '0')}`,
    upn,
    urn,
    type: TYPES[i % TYPES.length],
    reason: 'Attendance below 80 % this term; letters sent, no improvement',
    priority: 'normal',
    status,
    assignee: status === 'submitted' || status === 'triaged' ? null : `officer-${i % 20}`,
    parents: [{ id: `parent-${i}`, name: 'A Parent', relationship: 'mother' }],
    evidence: {
      takenAt: createdAt,
      academicYear: 2025,
      summaryVersion: 3,
      pupil: { forename: 'Alex', surname: `Pupil${i}`, dob: '2012-03-04', yearGroup: '8' },
      cohorts: ['fsm'],
      everCohorts: ['fsm', 'sen_support'],
      totals: stats,
      persistentAbsence: true,
      severeAbsence: false,
      enrolments: [
        {
          urn,
          academicYear: 2025,
          registration: 'C',
          admissionDate: '2023-09-04',
          leavingDate: null,
          stats,
          persistentAbsence: true,
          severeAbsence: false,
        },
      ],
      flags: [{ type: 'persistent_absence', since: '2025-10-01', detail: { rate: 20 } }],
      // The threshold window: sessions by date and code (the bulk of a real snapshot).
      thresholdWindow: {
        weeks: 10,
        sessions: Array.from({ length: 130 }, (_, d) => ({
          date: `2025-10-${String((d % 28) + 1).padStart(2, '0')}`,
          session: d % 2 ? 'PM' : 'AM',
          code: 'O',
        })),
      },
    } as unknown as Referral['evidence'],
    actions: hasNotice
      ? [
          {
            id: 'A1',
            type: 'penalty_notice_issued',
            date: on,
            recordedAt: createdAt,
            recordedBy: { sub: 'officer-1', role: 'la_officer' },
            parentId: `parent-${i}`,
            penaltyNotice: {
              sequence: 1,
              amount: { reduced: 80, full: 160, reducedPayableWithinDays: 21, fullPayableWithinDays: 28 },
              period: { start: on, end: on },
            },
          } as unknown as Referral['actions'][number],
        ]
      : [],
    outcome: status === 'closed' ? { type: 'attendance_improved', date: on } : null,
    createdAt,
    createdBy: { sub: 'officer-1', role: 'la_officer' },
    createdOn: on,
    triageDueOn: on,
    triagedAt: status === 'submitted' ? null : createdAt,
    closedAt: status === 'closed' ? createdAt : null,
    withdrawnAt: status === 'withdrawn' ? createdAt : null,
    withdrawalReason: status === 'withdrawn' ? 'moved away' : null,
    updatedAt: createdAt,
    version: open ? 2 : 4,
  };
}

interface Meter {
  readUnits: number;
  writeUnits: number;
  itemsRead: number;
  requests: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string', default: '1000,20000' },
      schools: { type: 'string', default: '100' },
      dir: { type: 'string', default: '/tmp/search/referral-search' },
    },
  });
  const sizes = values.cases.split(',').map(Number);
  const schools = Number(values.schools);
  const { startEngines, LOCAL_CREDENTIALS, LOCAL_REGION } = await import('../local/engines.js');
  for (const n of sizes) {
    const dir = join(values.dir, String(n));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const engines = await startEngines(dir, { inProcess: true });
    const env = process.env;
    env.AWS_REGION = LOCAL_REGION;
    env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
    env.AWS_ENDPOINT_URL_DYNAMODB = engines.dynamoEndpoint;
    env[ENV.table] = DEFAULT_NAMES.table;
    const clients = await import('../shared/store/clients.js');
    clients.resetClients();
    const table = await import('../shared/store/table.js');
    const { k } = await import('../shared/store/keys.js');
    const store = (await import('../shared/store/referrals.js')) as typeof import('../shared/store/referrals.js') &
      Record<string, unknown>;

    // Seed: the case items as the service stored them before the lists (gsi1 only).
    const cases = Array.from({ length: n }, (_, i) => syntheticCase(i, n, schools));
    const by = { sub: 'officer-1', role: 'la_officer' };
    await table.batchPut(
      cases.flatMap((r) => {
        const { evidence: _e, ...state } = r;
        return [
          { ...k.referral(r.id), gsi1pk: k.referralsIndex, gsi1sk: `${r.createdAt}#${r.id}`, ...r },
          // Its history: the creation event (with the evidence) and the latest change.
          {
            ...k.referralEvent(r.id, 1),
            referralId: r.id,
            seq: 1,
            at: r.createdAt,
            by,
            kind: 'created',
            changes: [],
            state: { ...r, version: 1 },
          },
          {
            ...k.referralEvent(r.id, r.version),
            referralId: r.id,
            seq: r.version,
            at: r.updatedAt,
            by,
            kind: 'updated',
            changes: [{ field: 'status', from: 'triaged', to: r.status }],
            state,
          },
        ];
      }),
      8,
    );

    const meter: Meter = { readUnits: 0, writeUnits: 0, itemsRead: 0, requests: 0 };
    const doc = clients.documentClient();
    doc.middlewareStack.add(
      ((next: (a: Args) => Promise<Result>) => async (args: Args) => {
        args.input.ReturnConsumedCapacity = 'TOTAL';
        return next(args);
      }) as never,
      { step: 'initialize', name: 'searchMeterCapacity', override: true },
    );
    doc.middlewareStack.add(
      ((next: (a: Args) => Promise<Result>, context: { commandName?: string }) => async (args: Args) => {
        const result = await next(args);
        meter.requests++;
        const read = /^(Get|BatchGet|Query|Scan)/.test(context.commandName ?? '');
        const cc = result.output.ConsumedCapacity as
          { CapacityUnits?: number; TableName?: string } | Array<{ CapacityUnits?: number }> | undefined;
        const units = (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
        const o = result.output;
        if (read) {
          meter.readUnits += units;
          if (typeof o.ScannedCount === 'number') meter.itemsRead += o.ScannedCount;
          else if (o.Responses)
            meter.itemsRead += Object.values(o.Responses as Record<string, unknown[]>).reduce(
              (s, r) => s + r.length,
              0,
            );
          else if (o.Item) meter.itemsRead += 1;
        } else meter.writeUnits += units;
        return result;
      }) as never,
      { step: 'build', priority: 'high', name: 'searchMeter', override: true },
    );
    const measure = async <T>(fn: () => Promise<T>): Promise<{ m: Meter; out: T }> => {
      const before = { ...meter };
      const out = await fn();
      return {
        m: {
          readUnits: meter.readUnits - before.readUnits,
          writeUnits: meter.writeUnits - before.writeUnits,
          itemsRead: meter.itemsRead - before.itemsRead,
          requests: meter.requests - before.requests,
        },
        out,
      };
    };

    const lines: string[] = [];
    const row = (name: string, m: Meter, answer: number) =>
      lines.push(
        `| ${n} | ${name} | ${answer} | ${m.requests} | ${m.itemsRead} | ${m.readUnits.toFixed(1)} | ${m.writeUnits.toFixed(0)} |`,
      );
    if (typeof store.indexReferralLists === 'function') {
      const { m, out } = await measure(() => (store.indexReferralLists as () => Promise<{ cases: number }>)());
      row('back-fill (once)', m, out.cases);
    }
    // Once per process, whether the lists are ready (one read): taken before the searches are counted.
    if (typeof store.referralListsReady === 'function') await store.referralListsReady();
    const today = '2026-12-07';
    const pupil = cases[Math.floor(n / 2)].upn;
    const searches: Array<[string, () => Promise<number>]> = [
      ['LA-wide page (no filter)', async () => (await store.listReferrals({ today }, 50)).items.length],
      [
        'by urn (a school, page of 50)',
        async () => (await store.listReferrals({ today, urn: '100042' }, 50)).items.length,
      ],
      ['by upn', async () => (await store.listReferrals({ today, upn: pupil }, 50)).items.length],
      [
        'by status=submitted (page)',
        async () => (await store.listReferrals({ today, status: 'submitted' }, 50)).items.length,
      ],
      [
        'by assignee (page)',
        async () => (await store.listReferrals({ today, assignee: 'officer-3' }, 50)).items.length,
      ],
      ['overdue=true (page)', async () => (await store.listReferrals({ today, overdue: true }, 50)).items.length],
      [
        'by urn + status=closed (page)',
        async () => (await store.listReferrals({ today, urn: '100042', status: 'closed' }, 50)).items.length,
      ],
      ['open cases UPNs (suggestions, duties)', async () => (await store.upnsWithOpenReferrals()).size],
      [
        'cases with unpaid-notice candidates',
        async () =>
          (await ((store.casesWithOutstandingNotices ?? store.casesWithActions) as () => Promise<unknown[]>)()).length,
      ],
    ];
    for (const [name, fn] of searches) {
      const { m, out } = await measure(fn);
      row(name, m, out);
    }
    // The write path: a case created, triaged, allocated, a penalty notice issued (units written,
    // the index's copies not included: see bench/cost.ts for those).
    const domain = await import('../shared/domain/referrals.js');
    const at = '2026-12-07T10:00:00.000Z';
    const ctx = { actor: { sub: 'officer-1', role: 'la_officer' as const }, at, today };
    const template = syntheticCase(n + 1, n, schools);
    const writes: Array<[string, (r: Referral) => import('../shared/domain/referrals.js').Change]> = [
      ['write: triage', (r) => domain.updateReferral(r, { status: 'triaged' }, ctx)],
      ['write: allocate', (r) => domain.updateReferral(r, { status: 'allocated', assignee: 'officer-9' }, ctx)],
      [
        'write: penalty notice issued',
        (r) =>
          domain.recordAction(
            r,
            { type: 'penalty_notice_issued', date: '2026-12-01', parentId: r.parents[0].id },
            { ...ctx, penaltyNoticeHistory: [], noticeToImprovePeriodDays: 15 },
          ),
      ],
    ];
    const created = domain.newReferral(
      {
        id: `ref${'9'.repeat(21)}`,
        upn: template.upn,
        urn: template.urn,
        type: 'penalty_notice_request',
        reason: 'x',
        parents: template.parents,
        evidence: template.evidence,
      },
      { ...ctx, triageDueOn: today },
    );
    let current = (await measure(() => store.putNewReferral(created))).out.referral;
    {
      const again = syntheticCase(n + 2, n, schools);
      const c = domain.newReferral(
        {
          id: `ref${'8'.repeat(21)}`,
          upn: again.upn,
          urn: again.urn,
          type: 'other',
          reason: 'x',
          evidence: again.evidence,
        },
        { ...ctx, triageDueOn: today },
      );
      const { m } = await measure(() => store.putNewReferral(c));
      row('write: create', m, 1);
    }
    for (const [name, make] of writes) {
      const c = make(current);
      const { m } = await measure(() => store.appendChange(c, current.version));
      row(name, m, 1);
      current = c.referral;
    }
    process.stdout.write(
      `\n${n} cases, ${schools} schools\n| cases | search | answer | requests | items read | read units | write units |\n|---|---|---|---|---|---|---|\n${lines.join('\n')}\n`,
    );
    doc.middlewareStack.remove('searchMeter');
    doc.middlewareStack.remove('searchMeterCapacity');
    clients.resetClients();
    await engines.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
