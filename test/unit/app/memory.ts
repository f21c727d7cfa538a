/**
 * In-memory ports for the use-case tests (docs/design.md §3): no engines. A fault is injected by
 * handing a port whose method throws (`failing`), never by spying on a store module.
 */
import type { AuditNote, AuditTrail } from '../../../shared/app/audit.js';
import type {
  FileArea,
  Files,
  PupilDuties,
  PupilRecords,
  Referrals,
  Registers,
  Returns,
  SchoolCalendars,
  Schools,
  Settings,
  Views,
} from '../../../shared/app/ports.js';
import {
  hasOutstandingNotice,
  type Change,
  type Referral,
  type ReferralEvent,
} from '../../../shared/domain/referrals.js';
import type { IdempotencyClaim, ReferralFilter, ReferralListItem } from '../../../shared/store/referrals.js';
import { DEFAULT_LA_SETTINGS, type LaSettings } from '../../../shared/config.js';
import type { CareEpisodeSpan } from '../../../shared/domain/cohorts.js';
import { aggregateCells, type AggregationEnrolment } from '../../../shared/domain/metrics.js';
import type { Period } from '../../../shared/domain/periods.js';
import type { PupilFlag } from '../../../shared/domain/pupil-summary.js';
import type { PupilSummaryRecord } from '../../../shared/store/pupils.js';
import type { ReturnRecord } from '../../../shared/store/returns.js';
import type { SchoolRecord } from '../../../shared/store/schools.js';

export class MemoryReturns implements Returns {
  readonly items = new Map<string, ReturnRecord>();
  async create(r: ReturnRecord) {
    this.items.set(r.returnId, structuredClone(r));
  }
  async get(id: string) {
    const r = this.items.get(id);
    return r && structuredClone(r);
  }
  async setStatus(id: string, status: ReturnRecord['status'], fields: Partial<ReturnRecord> = {}) {
    const r = this.items.get(id);
    if (!r) throw new Error(`no return ${id}`);
    this.items.set(id, { ...r, ...fields, status });
  }
}

export class MemoryFiles implements Files {
  readonly objects = new Map<
    string,
    { body: Buffer | string; contentType?: string; metadata?: Record<string, string> }
  >();
  async put(
    area: FileArea,
    key: string,
    body: Buffer | string,
    contentType: string,
    metadata?: Record<string, string>,
  ) {
    this.objects.set(`${area}:${key}`, { body, contentType, metadata });
  }
  async putJson(area: FileArea, key: string, value: unknown) {
    this.objects.set(`${area}:${key}`, { body: JSON.stringify(value) });
  }
  async exists(area: FileArea, key: string) {
    return this.objects.has(`${area}:${key}`);
  }
  async uploadUrl(area: FileArea, key: string) {
    return `memory://${area}/${key}`;
  }
}

export class MemorySchools implements Schools {
  readonly items = new Map<string, SchoolRecord>();
  constructor(schools: SchoolRecord[] = []) {
    for (const s of schools) this.items.set(s.urn, s);
  }
  async get(urn: string) {
    return this.items.get(urn);
  }
  async getMany(urns: string[]) {
    return new Map(urns.flatMap((u) => (this.items.has(u) ? [[u, this.items.get(u) as SchoolRecord] as const] : [])));
  }
  async list() {
    return [...this.items.values()];
  }
  /** URN order; the cursor is the last URN given (the memory store signs nothing). */
  async page(limit: number, cursor?: string) {
    const sorted = [...this.items.values()].sort((a, b) => (a.urn < b.urn ? -1 : 1));
    const rest = cursor ? sorted.filter((s) => s.urn > cursor) : sorted;
    const items = rest.slice(0, limit);
    return { items, nextCursor: rest.length > limit ? items[items.length - 1].urn : null };
  }
  async sessionDays() {
    return new Map<string, Uint8Array>();
  }
}

export class MemoryPupils implements PupilRecords {
  readonly records = new Map<string, PupilSummaryRecord>();
  readonly care = new Map<string, CareEpisodeSpan[]>();
  readonly flags = new Map<string, PupilFlag[]>();
  async summary(upn: string) {
    return this.records.get(upn);
  }
  async summaries(upns: string[]) {
    return new Map(
      upns.flatMap((u) => (this.records.has(u) ? [[u, this.records.get(u) as PupilSummaryRecord] as const] : [])),
    );
  }
  async careEpisodes(upn: string) {
    return this.care.get(upn) ?? [];
  }
  async patternFlags(upn: string, year: number) {
    return this.flags.get(`${upn}#${year}`) ?? [];
  }
}

/** No materialised views: every period is answered from the registers. */
/** Calendars with no term dates, registers or bank holidays held (a new object each time: the use cases cache per store). */
export const noCalendars = (): SchoolCalendars => ({
  sourcesFor: async (urn) => ({
    urn,
    registers: [],
    closures: [],
    bankHolidays: new Map(),
    held: { la: false, own: false },
  }),
  sourcesForSchools: async () => new Map(),
  version: async () => 'v1',
});

export const noViews: Views = {
  laView: async () => undefined,
  schoolView: async () => undefined,
  schoolCells: async () => [],
};

/** The schools' registers as aggregation enrolments, by URN. */
export class MemoryRegisters implements Registers {
  readonly bySchool = new Map<string, AggregationEnrolment[]>();
  async cellsForPeriod(period: Period, urns?: ReadonlySet<string>) {
    return [...this.bySchool]
      .filter(([urn]) => !urns || urns.has(urn))
      .map(([urn, enrolments]) => ({ urn, cells: aggregateCells(enrolments, [period])[0] }));
  }
  async pupilRowsForPeriod(): Promise<never[]> {
    return [];
  }
}

/** Cases as an append-only history of states; a change to an old version is stale, as in the table. */
export class MemoryReferrals implements Referrals {
  readonly cases = new Map<string, { referral: Referral; events: ReferralEvent[] }>();
  readonly keys = new Map<string, { referralId: string; bodyHash: string }>();
  async claimCreateKey(
    caller: string,
    key: string,
    record: { referralId: string; bodyHash: string },
  ): Promise<IdempotencyClaim> {
    const held = this.keys.get(`${caller}#${key}`);
    if (held) return { claimed: false, ...held };
    this.keys.set(`${caller}#${key}`, { referralId: record.referralId, bodyHash: record.bodyHash });
    return { claimed: true };
  }
  async putNew(change: Change) {
    if (!this.cases.has(change.referral.id))
      this.cases.set(change.referral.id, {
        referral: structuredClone(change.referral),
        events: [structuredClone(change.event)],
      });
    return structuredClone(this.cases.get(change.referral.id)!);
  }
  async get(id: string) {
    const c = this.cases.get(id);
    return c && structuredClone(c);
  }
  async append(change: Change, expected: number) {
    const c = this.cases.get(change.referral.id);
    if (!c || c.referral.version !== expected) return { saved: false as const, currentVersion: c?.referral.version };
    this.cases.set(change.referral.id, {
      referral: structuredClone(change.referral),
      events: [...c.events, structuredClone(change.event)],
    });
    return { saved: true as const };
  }
  async ofPupil(upn: string) {
    return [...this.cases.values()].filter((c) => c.referral.upn === upn).map((c) => structuredClone(c.referral));
  }
  async listAll(filter: ReferralFilter, keep?: (items: ReferralListItem[]) => Promise<ReferralListItem[]>) {
    const items = [...this.cases.values()]
      .map((c) => c.referral)
      .filter(
        (r) =>
          (!filter.urn || r.urn === filter.urn) &&
          (!filter.upn || r.upn === filter.upn) &&
          (!filter.status || r.status === filter.status),
      )
      .reverse();
    return keep ? keep(items) : items;
  }
  async list(
    filter: ReferralFilter,
    limit: number,
    _cursor: string | undefined,
    keep?: (items: ReferralListItem[]) => Promise<ReferralListItem[]>,
  ) {
    return { items: (await this.listAll(filter, keep)).slice(0, limit), nextCursor: null };
  }
  async openUpns() {
    return new Set(
      [...this.cases.values()]
        .filter((c) => !['closed', 'withdrawn'].includes(c.referral.status))
        .map((c) => c.referral.upn),
    );
  }
  async indexLists() {
    return { cases: this.cases.size, alreadyIndexed: false };
  }
  async withOutstandingNotices() {
    return [...this.cases.values()].map((c) => structuredClone(c.referral)).filter((r) => hasOutstandingNotice(r));
  }
}

export const noDuties: PupilDuties = { fieldsFor: async () => ({ lookedAfter: false, partTimeTimetables: [] }) };

export function settingsOf(overrides: Partial<LaSettings> = {}): Settings {
  return { settings: () => ({ ...DEFAULT_LA_SETTINGS, ...overrides }) };
}

/** An audit trail that keeps what it is told. */
export class Trail implements AuditTrail {
  readonly notes: AuditNote[] = [];
  record(note: AuditNote) {
    this.notes.push(note);
  }
  pupils(note: Omit<AuditNote, 'upn' | 'count'>, upns: Iterable<string>) {
    const list = [...upns];
    this.notes.push({ ...note, count: list.length });
    for (const upn of list) this.notes.push({ ...note, upn });
  }
}

/** A port whose every method fails as a store would (the fault injected through the port). */
export function failing<T extends object>(port: T, method: keyof T, error = new Error('store unavailable')): T {
  return new Proxy(port, {
    get(target, prop, receiver) {
      if (prop === method) return async () => Promise.reject(error);
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
