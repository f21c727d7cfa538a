/**
 * In-memory stores for applying a return (shared/app/apply-return.ts; docs/design.md §3): no engines.
 * Everything is copied in and out, as a store would, so a use case cannot reach into what it wrote.
 */
import type { ApplyReturnDeps } from '../../../shared/app/apply-return.js';
import type {
  CareIndexSource,
  DutiesStore,
  IdentityReviews,
  PupilStore,
  ReceivedFiles,
  ReceivedReturns,
  SchoolDerived,
  SchoolRegisters,
} from '../../../shared/app/ports.js';
import { DEFAULT_LA_SETTINGS } from '../../../shared/config.js';
import type { CareEpisodeSpan } from '../../../shared/domain/cohorts.js';
import type { Enrolment, PupilYearSummary } from '../../../shared/domain/pupil-summary.js';
import {
  deserializeRegister,
  emptyRegister,
  serializeRegister,
  type RegisterRow,
  type SchoolRegister,
  type SerializedRegister,
} from '../../../shared/domain/register.js';
import type { SchoolView } from '../../../shared/domain/school-view.js';
import type { SchoolDuties } from '../../../shared/store/duties.js';
import type { IdentityReview } from '../../../shared/store/identity-reviews.js';
import {
  enrolmentKeyOf,
  heldEnrolmentRef,
  type HeldEnrolment,
  type PupilHead,
  type PupilHeadWrite,
  type PupilSummaryRecord,
} from '../../../shared/store/pupils.js';
import type { ReturnError, ReturnRecord } from '../../../shared/store/returns.js';
import type { SchoolRecord } from '../../../shared/store/schools.js';
import { MemoryReturns } from './memory.js';

const copy = <T>(v: T): T => structuredClone(v);
const order = (r: Pick<ReturnRecord, 'receivedAt' | 'returnId'>) => `${r.receivedAt}#${r.returnId}`;

class MemoryReceivedReturns extends MemoryReturns implements ReceivedReturns {
  private ofSchool(urn: string): ReturnRecord[] {
    return [...this.items.values()]
      .filter((r) => r.urn === urn)
      .sort((a, b) => (order(a) < order(b) ? -1 : 1))
      .map(copy);
  }
  async unfinishedBefore(r: Pick<ReturnRecord, 'urn' | 'receivedAt' | 'returnId'>) {
    return this.ofSchool(r.urn).filter(
      (x) => order(x) < order(r) && (x.status === 'received' || x.status === 'processing'),
    );
  }
  async waitingAfter(r: Pick<ReturnRecord, 'urn' | 'receivedAt' | 'returnId'>, limit: number) {
    const out: ReturnRecord[] = [];
    for (const x of this.ofSchool(r.urn).filter((x) => order(x) > order(r))) {
      if (x.status === 'awaiting_upload' || out.length >= limit) break;
      if (x.status === 'received' || x.status === 'processing') out.push(x);
    }
    return out;
  }
}

class MemoryReceivedFiles implements ReceivedFiles {
  readonly objects = new Map<string, { body: Buffer; contentType?: string }>();
  readonly quarantined = new Map<string, { file?: Buffer; report: unknown }>();
  readonly rowErrorReports = new Map<string, ReturnError[]>();
  put(bucket: string, key: string, body: string) {
    this.objects.set(`${bucket}/${key}`, { body: Buffer.from(body), contentType: 'text/csv' });
  }
  async size(bucket: string, key: string) {
    return this.objects.get(`${bucket}/${key}`)?.body.length;
  }
  async read(bucket: string, key: string) {
    const o = this.objects.get(`${bucket}/${key}`);
    return o && { body: Buffer.from(o.body), contentType: o.contentType };
  }
  async quarantine(urn: string, returnId: string, _ext: string, file: { body: Buffer } | undefined, report: unknown) {
    this.quarantined.set(`${urn}/${returnId}`, { file: file?.body, report: copy(report) });
  }
  async putRowErrors(returnId: string, errors: readonly ReturnError[]) {
    this.rowErrorReports.set(returnId, copy([...errors]));
  }
}

export class MemoryRegisters implements SchoolRegisters {
  readonly held = new Map<string, SerializedRegister>();
  saves = 0;
  async load(urn: string, year: number) {
    const s = this.held.get(`${year}#${urn}`);
    return s ? deserializeRegister(copy(s)) : emptyRegister(urn, year);
  }
  async save(register: SchoolRegister) {
    this.saves++;
    this.held.set(`${register.academicYear}#${register.urn}`, copy(serializeRegister(register)));
  }
}

class MemoryPupilStore implements PupilStore {
  private static stores = 0;
  private readonly id = `memory-${++MemoryPupilStore.stores}`;
  readonly headItems = new Map<string, PupilHead>();
  readonly entries = new Map<string, HeldEnrolment>();
  private revs = 0;
  where() {
    return this.id;
  }
  async heads(upns: string[]) {
    return new Map(
      upns.flatMap((u) => (this.headItems.has(u) ? [[u, copy(this.headItems.get(u) as PupilHead)] as const] : [])),
    );
  }
  async enrolments(refs: Array<{ upn: string; key: string }>) {
    const out = new Map<string, HeldEnrolment>();
    for (const r of refs) {
      const e = this.entries.get(heldEnrolmentRef(r.upn, r.key));
      if (e) out.set(heldEnrolmentRef(r.upn, r.key), copy(e));
    }
    return out;
  }
  async putEnrolments(
    _urn: string,
    _year: number,
    entries: Array<{ enrolment: Enrolment; summary: PupilYearSummary }>,
  ) {
    const computedAt = new Date().toISOString();
    for (const { enrolment, summary } of entries) {
      this.entries.set(
        heldEnrolmentRef(enrolment.upn, enrolmentKeyOf(enrolment)),
        copy({ enrolment, summary, rev: `rev${++this.revs}`, computedAt }),
      );
    }
  }
  async putHead(head: PupilHeadWrite, expected: number) {
    if ((this.headItems.get(head.upn)?.version ?? 0) !== expected) return false;
    this.headItems.set(head.upn, copy({ ...head, computedAt: new Date().toISOString() }));
    return true;
  }
  /** Head epochs by school, one group per pupil. */
  readonly epochs = new Map<string, Map<string, number>>();
  async headEpochs(urn: string) {
    return new Map(this.epochs.get(urn) ?? []);
  }
  headEpochGroup(upn: string) {
    return upn;
  }
  async moveHeadEpochs(urn: string, upns: readonly string[]) {
    const held = this.epochs.get(urn) ?? new Map<string, number>();
    for (const upn of new Set(upns)) held.set(upn, (held.get(upn) ?? 0) + 1);
    this.epochs.set(urn, held);
  }
  async summaries(upns: string[]) {
    const out = new Map<string, PupilSummaryRecord>();
    for (const upn of upns) {
      const head = this.headItems.get(upn);
      if (!head) continue;
      const held = head.enrolmentKeys.flatMap((key) =>
        this.entries.has(heldEnrolmentRef(upn, key))
          ? [this.entries.get(heldEnrolmentRef(upn, key)) as HeldEnrolment]
          : [],
      );
      const years: Record<string, PupilYearSummary> = {};
      for (const h of held) if (h.summary) years[String(h.enrolment.academicYear)] = h.summary;
      out.set(
        upn,
        copy({
          upn,
          version: head.version,
          computedAt: head.computedAt,
          enrolmentKeys: head.enrolmentKeys,
          enrolments: held.map((h) => h.enrolment),
          years: { ...years, ...(head.years ?? {}) },
        }),
      );
    }
    return out;
  }
}

class MemoryDerived implements SchoolDerived {
  readonly views = new Map<string, SchoolView & { version: number }>();
  readonly days = new Map<string, Uint8Array>();
  readonly schools = new Map<string, SchoolRecord>();
  readonly rollups: number[] = [];
  viewWrites = 0;
  async view(urn: string, year: number) {
    const v = this.views.get(`${year}#${urn}`);
    return v && copy(v);
  }
  async viewVersion(urn: string, year: number) {
    return this.views.get(`${year}#${urn}`)?.version ?? 0;
  }
  async putView(view: SchoolView, version: number) {
    this.viewWrites++;
    this.views.set(`${view.academicYear}#${view.urn}`, copy({ ...view, version }));
  }
  async putSessionDays(urn: string, year: number, days: Uint8Array) {
    this.days.set(`${year}#${urn}`, Uint8Array.from(days));
  }
  async sessionDays(pairs: Array<{ urn: string; academicYear: number }>) {
    return new Map(
      pairs.flatMap((p) =>
        this.days.has(`${p.academicYear}#${p.urn}`)
          ? [[`${p.academicYear}#${p.urn}`, this.days.get(`${p.academicYear}#${p.urn}`) as Uint8Array] as const]
          : [],
      ),
    );
  }
  async upsertSchool(urn: string, fields: Partial<SchoolRecord>) {
    this.schools.set(urn, copy({ ...(this.schools.get(urn) ?? { urn }), ...fields }));
  }
  async school(urn: string) {
    return this.schools.get(urn);
  }
  async requestRollup(year: number) {
    this.rollups.push(year);
  }
}

export class MemoryDuties implements DutiesStore {
  readonly docs = new Map<string, SchoolDuties>();
  async get(urn: string, year: number) {
    const d = this.docs.get(`${year}#${urn}`);
    return d && copy(d);
  }
  async put(doc: SchoolDuties) {
    this.docs.set(`${doc.academicYear}#${doc.urn}`, copy(doc));
  }
  async calendarSources(urn: string) {
    return { urn };
  }
}

class MemoryIdentityReviews implements IdentityReviews {
  readonly items = new Map<string, { review: IdentityReview; rows: RegisterRow[] }>();
  async file(review: Omit<IdentityReview, 'reviewId' | 'status' | 'createdAt'>, rows: RegisterRow[]) {
    const reviewId = `idr-${review.returnId}-${review.upn}`;
    if (!this.items.has(reviewId))
      this.items.set(
        reviewId,
        copy({ review: { ...review, reviewId, status: 'pending', createdAt: new Date().toISOString() }, rows }),
      );
  }
  async get(reviewId: string) {
    const r = this.items.get(reviewId);
    return r && copy(r);
  }
}

class MemoryCare implements CareIndexSource {
  readonly index = new Map<string, CareEpisodeSpan[]>();
  async careIndex() {
    return this.index;
  }
}

export interface MemoryIngest extends ApplyReturnDeps {
  returns: MemoryReceivedReturns;
  files: MemoryReceivedFiles;
  registers: MemoryRegisters;
  pupilStore: MemoryPupilStore;
  derived: MemoryDerived;
  duties: MemoryDuties;
  reviews: MemoryIdentityReviews;
  care: MemoryCare;
}

export function memoryIngest(): MemoryIngest {
  return {
    returns: new MemoryReceivedReturns(),
    files: new MemoryReceivedFiles(),
    registers: new MemoryRegisters(),
    pupilStore: new MemoryPupilStore(),
    derived: new MemoryDerived(),
    duties: new MemoryDuties(),
    reviews: new MemoryIdentityReviews(),
    care: new MemoryCare(),
    settings: () => DEFAULT_LA_SETTINGS,
    laCode: () => '999',
  };
}
