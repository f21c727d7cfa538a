/**
 * Creating and changing a referral against in-memory stores (docs/design.md §5): scope, optimistic
 * versions (a stale version is refused with the current one), Idempotency-Key replays, and the
 * domain's refusals as conflicts.
 */
import { describe, expect, it } from 'vitest';
import {
  changeReferral,
  createReferral,
  readReferral,
  recordReferralEvent,
  type ReferralDeps,
} from '../../../shared/app/referrals.js';
import type { Principal } from '../../../shared/domain/access.js';
import { A, B, pupilAtTwoSchools, UPN } from './fixtures.js';
import { failing, MemoryReferrals, MemorySchools, settingsOf, Trail } from './memory.js';

const officer: Principal = { sub: 'o1', role: 'la_officer', la: '999' };
const schoolA: Principal = { sub: 'a1', role: 'school', la: '999', urn: A };
const schoolB: Principal = { sub: 'b1', role: 'school', la: '999', urn: B };
const vsh: Principal = { sub: 'v1', role: 'vsh', la: '999' };
const body = { upn: UPN, urn: A, type: 'persistent_absence' as const, reason: 'Absent since half term' };

function deps(): ReferralDeps & { referrals: MemoryReferrals } {
  return {
    referrals: new MemoryReferrals(),
    pupils: pupilAtTwoSchools(),
    schools: new MemorySchools(),
    ...settingsOf(),
  };
}

async function created(d: ReturnType<typeof deps>, principal: Principal = schoolA) {
  const out = await createReferral(d, { principal, audit: new Trail() }, { body });
  if (!out.ok) throw new Error(out.detail);
  return out.value;
}

describe('creating a referral', () => {
  it('opens a submitted case with the evidence at the time, audited as created', async () => {
    const d = deps();
    const audit = new Trail();
    const out = await createReferral(d, { principal: schoolA, audit }, { body });
    if (!out.ok) throw new Error(out.detail);
    expect(out.value).toMatchObject({ version: 1, replayed: false, body: { status: 'submitted', upn: UPN, urn: A } });
    expect(audit.notes).toEqual([{ target: `referral:${out.value.id}`, outcome: 'created', upn: UPN, urn: A }]);
  });

  it("refuses a school referring for another school, and a pupil outside the caller's scope as unknown", async () => {
    expect(await createReferral(deps(), { principal: schoolB, audit: new Trail() }, { body })).toMatchObject({
      ok: false,
      refused: 'forbidden',
    });
    expect(
      await createReferral(
        deps(),
        { principal: { ...schoolA, urn: '100003' }, audit: new Trail() },
        { body: { ...body, urn: '100003' } },
      ),
    ).toMatchObject({ ok: false, refused: 'not_found' });
    expect(
      await createReferral(deps(), { principal: officer, audit: new Trail() }, { body: { ...body, urn: '100003' } }),
    ).toMatchObject({ ok: false, refused: 'unacceptable' });
  });

  it('replays a retry with the same Idempotency-Key, and refuses the key with another body', async () => {
    const d = deps();
    const first = await createReferral(d, { principal: officer, audit: new Trail() }, { body, idempotencyKey: 'k1' });
    const again = await createReferral(d, { principal: officer, audit: new Trail() }, { body, idempotencyKey: 'k1' });
    expect(first.ok && again.ok && again.value.id === first.value.id && again.value.replayed).toBe(true);
    expect(d.referrals.cases.size).toBe(1);
    expect(
      await createReferral(
        d,
        { principal: officer, audit: new Trail() },
        { body: { ...body, reason: 'other' }, idempotencyKey: 'k1' },
      ),
    ).toMatchObject({ ok: false, refused: 'unacceptable', extra: { code: 'idempotency_key_reused' } });
    expect(
      await createReferral(d, { principal: officer, audit: new Trail() }, { body, idempotencyKey: 'bad key' }),
    ).toMatchObject({ ok: false, refused: 'invalid' });
  });
});

describe('changing a referral', () => {
  it('triages the version read, and refuses a stale version with the current one (412-style)', async () => {
    const d = deps();
    const { id } = await created(d);
    const triaged = await changeReferral(
      d,
      { principal: officer, audit: new Trail() },
      { id, expectedVersion: 1, patch: { status: 'triaged' } },
    );
    expect(triaged).toMatchObject({ ok: true, value: { version: 2, body: { status: 'triaged' } } });
    const audit = new Trail();
    expect(
      await changeReferral(d, { principal: officer, audit }, { id, expectedVersion: 1, patch: { priority: 'high' } }),
    ).toMatchObject({ ok: false, refused: 'stale', extra: { currentVersion: 2 } });
  });

  it('refuses a change that loses a race in the store as stale, not as a fault', async () => {
    const d = deps();
    const { id } = await created(d);
    const racing = {
      ...d,
      referrals: Object.assign(Object.create(d.referrals) as MemoryReferrals, {
        append: async () => ({ saved: false as const, currentVersion: 2 }),
      }),
    };
    const audit = new Trail();
    expect(
      await changeReferral(
        racing,
        { principal: officer, audit },
        { id, expectedVersion: 1, patch: { status: 'triaged' } },
      ),
    ).toMatchObject({ ok: false, refused: 'stale', extra: { currentVersion: 2 } });
    expect(audit.notes.map((n) => n.outcome)).toEqual(['stale']);
  });

  it('lets a referrer only withdraw its own submitted case, and refuses a transition the status lacks as a conflict', async () => {
    const d = deps();
    const { id } = await created(d);
    expect(
      await changeReferral(
        d,
        { principal: schoolA, audit: new Trail() },
        { id, expectedVersion: 1, patch: { status: 'triaged' } },
      ),
    ).toMatchObject({ ok: false, refused: 'forbidden' });
    expect(
      await changeReferral(
        d,
        { principal: officer, audit: new Trail() },
        { id, expectedVersion: 1, patch: { status: 'in_progress' } },
      ),
    ).toMatchObject({ ok: false, refused: 'conflict' });
    expect(
      await changeReferral(
        d,
        { principal: schoolA, audit: new Trail() },
        { id, expectedVersion: 1, patch: { status: 'withdrawn', reason: 'raised in error' } },
      ),
    ).toMatchObject({ ok: true, value: { body: { status: 'withdrawn' } } });
  });

  it('keeps cases out of sight of callers outside their scope', async () => {
    const d = deps();
    const { id } = await created(d);
    expect(await readReferral(d, { principal: schoolB, audit: new Trail() }, id)).toMatchObject({
      ok: false,
      refused: 'not_found',
    });
    expect(await readReferral(d, { principal: vsh, audit: new Trail() }, id)).toMatchObject({
      ok: false,
      refused: 'not_found',
    });
    expect(
      await recordReferralEvent(
        d,
        { principal: schoolB, audit: new Trail() },
        { id, expectedVersion: 1, event: { kind: 'note', text: 'hello' } },
      ),
    ).toMatchObject({ ok: false, refused: 'not_found' });
    expect(
      await recordReferralEvent(
        d,
        { principal: schoolA, audit: new Trail() },
        { id, expectedVersion: 1, event: { kind: 'note', text: 'hello' } },
      ),
    ).toMatchObject({ ok: true, value: { version: 2 } });
  });

  it('fails (not refuses) when the store fails', async () => {
    const d = deps();
    const { id } = await created(d);
    await expect(
      readReferral({ ...d, referrals: failing(d.referrals, 'get') }, { principal: officer, audit: new Trail() }, id),
    ).rejects.toThrow('store unavailable');
  });
});
