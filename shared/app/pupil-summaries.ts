/**
 * Recompute pupils' combined figures across all their schools and store them (shared/store/pupils.ts
 * has the layout: a versioned head per pupil, and each school's enrolments written only by that school).
 *
 * Two schools' ingests touching the same pupil at once can never leave a summary that misses the
 * other's marks:
 * - every ingest first writes its own enrolments, then settles the pupil's head;
 * - a head is only ever written under a condition on the version read (creating it, adding an
 *   enrolment, or — for a pupil more than one school lists — storing the combined summary): the
 *   loser re-reads and recomputes, and since the winner wrote its enrolments before its head, the
 *   loser's re-read sees them;
 * - a pupil only this school lists ("owned") needs no head write at all: after writing the
 *   enrolments, the ingest checks whether any head it used may have moved (another school took the
 *   pupil on meanwhile), and recomputes those pupils from a fresh read. The other school, having
 *   written the head, reads again the enrolments it took from this school, and recomputes if one
 *   moved. Each writes before it reads, so at least one of the two sees the other's write.
 *
 * The check is one read, not one per pupil: whoever changes the version of a head a school owns
 * (another school taking the pupil on, the school itself starting a new year) first and last moves
 * that school's head epoch for the pupil's group (1/32 of its pupils). A head this process read after
 * it last read the group's epoch, with the epoch unchanged at the check, has not moved since it was
 * read (a writer that moved the epoch before that read and had not yet written the head at the check
 * is still to move it after: its own re-read of this school's enrolments keeps the head right, and
 * the next check sees the epoch move). Heads read before that, or all of a group's when its epoch
 * moved, are read again as before.
 */
import type { LaSettings } from '../config.js';
import type { SchoolRegister } from '../domain/register.js';
import type { Enrolment, PupilYearSummary } from '../domain/pupil-summary.js';
import { pupilRow, type PupilRow } from '../domain/school-view.js';
import { summarisePupil } from '../domain/pupil-status.js';
import type { CareIndex } from '../store/care.js';
import { enrolmentKeyOf, heldEnrolmentRef, type PupilHead, type PupilHeadWrite } from '../store/pupils.js';
import { inParallel } from '../store/table.js';
import type { PupilStore, SchoolDerived } from './ports.js';

export interface PupilSummaryDeps {
  pupilStore: PupilStore;
  derived: Pick<SchoolDerived, 'sessionDays'>;
}

export interface RefreshInput {
  register: SchoolRegister;
  /** The school-year's session days as just stored (then not read back); other schools' are read. */
  sessionDays?: Uint8Array;
  upns: string[];
  care: CareIndex;
  settings: LaSettings;
  today: string;
}

const MAX_ATTEMPTS = 8;

/**
 * Heads as this process last read or wrote them, for one store: a school's next return starts from
 * these, and with its epoch unchanged reads no head at all. A head that moved since fails the epoch
 * check (or, on the other paths, the write's version condition), and the pupil is recomputed from a
 * fresh read. Bounded; cleared when the process is pointed at another table.
 */
const headCache = new Map<string, HeldHead>();
let headCacheStore: string | undefined;
const HEAD_CACHE_MAX = 250_000;

/**
 * A head as this process holds it, and when the read or write that gave it was sent (`tick`: this
 * process's clock, moved as a read or write is sent and as a school's epoch comes back).
 */
interface HeldHead {
  head: PupilHead;
  at: number;
}
let tick = 0;

/**
 * Per school: its head epochs as this process last read them, and when (every copy of a head in a
 * group read after it is checked by the group's epoch): `at` for the first read, `movedAt` for a
 * group seen to move since.
 */
interface KnownEpochs {
  epochs: Map<string, number>;
  at: number;
  movedAt: Map<string, number>;
}
const epochs = new Map<string, KnownEpochs>();

function remember(head: PupilHead, at: number): void {
  if (headCache.size >= HEAD_CACHE_MAX) headCache.clear();
  headCache.set(head.upn, { head, at });
}

/** The process's copies belong to one store: pointed at another, it starts afresh. */
function useStore(store: PupilStore): void {
  const where = store.where();
  if (where !== headCacheStore) {
    headCache.clear();
    epochs.clear();
    headCacheStore = where;
  }
}

/**
 * The pupils' heads: from this process's copies, reading the rest (absent: never seen). A copy may
 * be behind on enrolments added since, never ahead: enrolments are only ever added to a head.
 */
export async function headsOf(store: PupilStore, upns: string[]): Promise<Map<string, PupilHead>> {
  const held = await heldHeads(store, upns);
  return new Map([...held].map(([upn, h]) => [upn, h.head]));
}

async function heldHeads(store: PupilStore, upns: string[]): Promise<Map<string, HeldHead>> {
  useStore(store);
  const heads = new Map<string, HeldHead>();
  const unknown: string[] = [];
  for (const upn of upns) {
    const held = headCache.get(upn);
    if (held) heads.set(upn, held);
    else unknown.push(upn);
  }
  if (unknown.length > 0) {
    const at = ++tick;
    for (const head of (await store.heads(unknown)).values()) {
      remember(head, at);
      heads.set(head.upn, { head, at });
    }
  }
  return heads;
}

interface Computed {
  upn: string;
  head?: PupilHead;
  /** When this process read or wrote the copy of the head used. */
  at: number;
  own: Enrolment;
  summary: PupilYearSummary;
  /** Revisions of the other enrolments the summary was computed from, by "year#urn". */
  read: Map<string, string>;
}

export async function refreshPupilSummaries(
  deps: PupilSummaryDeps,
  input: RefreshInput,
): Promise<Map<string, PupilRow>> {
  const { pupilStore } = deps;
  const { register } = input;
  const urn = register.urn;
  const ownKey = enrolmentKeyOf(register);
  const rows = new Map<string, PupilRow>();
  let pending = input.upns.filter((upn) => register.pupils.has(upn));
  useStore(pupilStore);
  // The school's head epoch, the first time this process works for it: copies read from now on are checked by it.
  if (pending.length > 0 && !epochs.has(urn)) {
    const read = await pupilStore.headEpochs(urn);
    epochs.set(urn, { epochs: read, at: ++tick, movedAt: new Map() });
  }
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= MAX_ATTEMPTS)
      throw new Error(`pupil summaries kept changing under us after ${MAX_ATTEMPTS} attempts`);
    const held = await heldHeads(pupilStore, pending);
    const heads = new Map([...held].map(([upn, h]) => [upn, h.head]));
    // The pupil's other enrolments (other schools, other years) are the ones their head lists.
    const refs: Array<{ upn: string; key: string }> = [];
    const pairs = new Map<string, { urn: string; academicYear: number }>();
    if (!input.sessionDays) pairs.set(ownKey, { urn, academicYear: register.academicYear });
    for (const upn of pending) {
      for (const key of heads.get(upn)?.enrolmentKeys ?? []) {
        if (key === ownKey) continue;
        refs.push({ upn, key });
        const i = key.indexOf('#');
        pairs.set(key, { urn: key.slice(i + 1), academicYear: Number(key.slice(0, i)) });
      }
    }
    const [enrolments, sessionDays] = await Promise.all([
      pupilStore.enrolments(refs),
      pairs.size > 0 ? deps.derived.sessionDays([...pairs.values()]) : new Map<string, Uint8Array>(),
    ]);
    if (input.sessionDays) sessionDays.set(ownKey, input.sessionDays);

    const computed: Computed[] = pending.map((upn) => {
      const head = heads.get(upn);
      const own: Enrolment = { ...register.pupils.get(upn)!, urn, academicYear: register.academicYear };
      const others: Enrolment[] = [];
      const read = new Map<string, string>();
      for (const key of head?.enrolmentKeys ?? []) {
        if (key === ownKey) continue;
        const item = enrolments.get(heldEnrolmentRef(upn, key));
        if (item) {
          others.push(item.enrolment);
          read.set(key, item.rev);
        }
      }
      const summary = summarisePupil({
        upn,
        academicYear: register.academicYear,
        enrolments: [own, ...others],
        care: input.care.get(upn) ?? [],
        sessionDays,
        settings: input.settings,
        today: input.today,
      });
      return { upn, head, at: held.get(upn)?.at ?? 0, own, summary, read };
    });

    // Our own enrolments first: a head never lists an enrolment not yet written, and a school taking
    // a pupil on after this point reads these marks.
    await pupilStore.putEnrolments(
      urn,
      register.academicYear,
      computed.map((c) => ({ enrolment: c.own, summary: c.summary })),
      register.pupils.keys(),
    );

    const conflicts: string[] = [];
    const owned = computed.filter((c) => c.head?.owner === urn && c.head.enrolmentKeys.includes(ownKey));
    const ownedSet = new Set(owned);
    const takenOver: Computed[] = [];
    const headWrites = computed.filter((c) => !ownedSet.has(c));
    // Heads owned by a school about to change version (taken on here, or a new year at their owner):
    // the owner's epochs for them move before and after the writes.
    const ownersOf = new Map<string, string[]>();
    for (const c of headWrites) {
      const owner = c.head?.owner;
      if (owner !== undefined) ownersOf.set(owner, [...(ownersOf.get(owner) ?? []), c.upn]);
    }
    const moveEpochs = () => Promise.all([...ownersOf].map(([owner, upns]) => pupilStore.moveHeadEpochs(owner, upns)));
    await moveEpochs();
    await inParallel(headWrites, 16, async (c) => {
      const head = c.head;
      const version = (head?.version ?? 0) + 1;
      const enrolmentKeys = [...new Set([...(head?.enrolmentKeys ?? []), ownKey])].sort();
      // New to the LA, or a new year at the school that holds the pupil: still owned by this school.
      // Otherwise the pupil is (or becomes) shared, and the head holds the combined summaries.
      const write: PupilHeadWrite =
        !head || head.owner === urn
          ? { upn: c.upn, version, enrolmentKeys, owner: urn }
          : {
              upn: c.upn,
              version,
              enrolmentKeys,
              years: { ...(head.years ?? {}), [String(register.academicYear)]: c.summary },
            };
      const at = ++tick;
      if (await pupilStore.putHead(write, head?.version ?? 0)) {
        remember(
          {
            upn: c.upn,
            version,
            computedAt: new Date().toISOString(),
            enrolmentKeys,
            ...(write.owner !== undefined ? { owner: write.owner } : {}),
            ...(write.years !== undefined ? { years: write.years } : {}),
          },
          at,
        );
        rows.set(c.upn, pupilRow(c.summary, version));
        if (head?.owner !== undefined && head.owner !== urn) takenOver.push(c);
      } else {
        headCache.delete(c.upn);
        conflicts.push(c.upn);
      }
    });
    await moveEpochs();

    // Taken over from another school: recompute if that school wrote an enrolment we read since.
    const reread = await pupilStore.enrolments(
      takenOver.flatMap((c) => [...c.read.keys()].map((key) => ({ upn: c.upn, key }))),
    );
    for (const c of takenOver) {
      for (const [key, rev] of c.read) {
        if (reread.get(heldEnrolmentRef(c.upn, key))?.rev !== rev) {
          rows.delete(c.upn);
          conflicts.push(c.upn);
          break;
        }
      }
    }

    // Owned, written without a condition: recompute if another school took the pupil on meanwhile.
    // Only the heads the school's epochs do not vouch for are read again (all of a group's if its epoch moved).
    if (owned.length > 0) {
      const now = await pupilStore.headEpochs(urn);
      const known = epochs.get(urn)!;
      const movedAt = ++tick;
      for (const group of new Set([...now.keys(), ...known.epochs.keys()])) {
        if ((now.get(group) ?? 0) === (known.epochs.get(group) ?? 0)) continue;
        known.epochs.set(group, now.get(group) ?? 0);
        known.movedAt.set(group, movedAt);
      }
      const vouchedAfter = (upn: string) => known.movedAt.get(pupilStore.headEpochGroup(upn)) ?? known.at;
      const recheck = owned.filter((c) => c.at <= vouchedAfter(c.upn));
      const at = ++tick;
      const fresh =
        recheck.length > 0 ? await pupilStore.heads(recheck.map((c) => c.upn)) : new Map<string, PupilHead>();
      const rechecked = new Set(recheck);
      for (const c of owned) {
        if (!rechecked.has(c)) {
          rows.set(c.upn, pupilRow(c.summary, c.head!.version));
          continue;
        }
        const current = fresh.get(c.upn);
        if (current) remember(current, at);
        else headCache.delete(c.upn);
        if (current?.version === c.head!.version) rows.set(c.upn, pupilRow(c.summary, c.head!.version));
        else conflicts.push(c.upn);
      }
    }
    pending = conflicts;
  }
  return rows;
}
