/**
 * Submitting and reading a return against in-memory stores: what is kept, under whom, and what each
 * caller is refused (docs/design.md §4 POST /v1/returns; issue 15's quarantine rules).
 */
import { describe, expect, it } from 'vitest';
import { readReturn, returnFile } from '../../../shared/app/read-return.js';
import { presignReturnUpload, submitReturn, type ReturnDeps } from '../../../shared/app/submit-return.js';
import { LIMITS } from '../../../shared/config.js';
import type { Principal } from '../../../shared/domain/access.js';
import { makeUpn } from '../../../shared/domain/upn.js';
import { failing, MemoryFiles, MemoryReturns, MemorySchools, Trail } from './memory.js';

const URN = '100001';
const OTHER = '100002';
const OUT_OF_AREA = '900001';
const school: Principal = { sub: 's1', role: 'school', la: '999', urn: URN };
const officer: Principal = { sub: 'o1', role: 'la_officer', la: '999' };
const vsh: Principal = { sub: 'v1', role: 'vsh', la: '999' };

function deps(): ReturnDeps & { returns: MemoryReturns; files: MemoryFiles } {
  return {
    returns: new MemoryReturns(),
    files: new MemoryFiles(),
    schools: new MemorySchools([{ urn: URN }, { urn: OTHER }, { urn: OUT_OF_AREA, outOfArea: true }]),
  };
}

const csv = (...urns: string[]) =>
  Buffer.from(
    ['urn,upn,date,am,pm', ...urns.map((u, i) => `${u},${makeUpn(`99940012500${i}`)},2026-11-30,/,\\`)].join('\n') +
      '\n',
  );

describe('submitting a return', () => {
  it('keeps an accepted file where the ingest picks it up, as received, listed under its school', async () => {
    const d = deps();
    const audit = new Trail();
    const out = await submitReturn(d, { principal: school, audit }, { format: 'csv', body: csv(URN) });
    if (!out.ok) throw new Error(out.detail);
    expect(out.value).toMatchObject({ urn: URN, status: 'received' });
    const stored = d.returns.items.get(out.value.returnId);
    expect(stored).toMatchObject({
      urn: URN,
      status: 'received',
      format: 'csv',
      uploadedBy: { sub: 's1', role: 'school', urn: URN },
    });
    expect(d.files.objects.get(`returns:${stored?.objectKey}`)?.metadata).toEqual({ 'return-id': out.value.returnId });
    expect(audit.notes).toEqual([{ target: `return:${out.value.returnId}`, outcome: 'received', urn: URN }]);
  });

  it("refuses another school's register, keeping the file in quarantine under the uploader", async () => {
    const d = deps();
    const audit = new Trail();
    const out = await submitReturn(d, { principal: school, audit }, { format: 'csv', body: csv(OTHER) });
    expect(out).toMatchObject({ ok: false, refused: 'forbidden', extra: { code: 'urn_not_permitted' } });
    const kept = [...d.returns.items.values()];
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ urn: URN, status: 'rejected', rejection: { title: 'Forbidden' } });
    expect(kept[0]?.objectKey.startsWith('quarantine/')).toBe(true);
    expect(d.files.objects.has(`quarantine:${kept[0]?.objectKey}`)).toBe(true);
    expect(audit.notes[0]?.outcome).toBe('rejected:403');
  });

  it('lets the Virtual School send only for schools outside the LA', async () => {
    const d = deps();
    expect(
      (await submitReturn(d, { principal: vsh, audit: new Trail() }, { format: 'csv', body: csv(OUT_OF_AREA) })).ok,
    ).toBe(true);
    const refused = await submitReturn(d, { principal: vsh, audit: new Trail() }, { format: 'csv', body: csv(URN) });
    expect(refused).toMatchObject({ ok: false, refused: 'forbidden' });
    if (!refused.ok) expect(refused.detail).toMatch(/outside the LA/);
  });

  it('refuses a file with several schools (422) and a file over the direct limit (413), keeping both', async () => {
    const d = deps();
    expect(
      await submitReturn(d, { principal: officer, audit: new Trail() }, { format: 'csv', body: csv(URN, OTHER) }),
    ).toMatchObject({ ok: false, refused: 'unacceptable', extra: { code: 'several_schools' } });
    const big = Buffer.alloc(LIMITS.maxDirectUploadBytes + 1, 'a');
    expect(
      await submitReturn(d, { principal: school, audit: new Trail() }, { format: 'csv', body: big }),
    ).toMatchObject({ ok: false, refused: 'too_large', extra: { code: 'too_large' } });
    expect([...d.returns.items.values()].map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('marks the return rejected when the file cannot be stored, and fails', async () => {
    const d = deps();
    const broken = { ...d, files: failing(d.files, 'put') };
    await expect(
      submitReturn(broken, { principal: school, audit: new Trail() }, { format: 'csv', body: csv(URN) }),
    ).rejects.toThrow('store unavailable');
    expect([...d.returns.items.values()]).toMatchObject([{ status: 'rejected', rejection: { title: 'Not stored' } }]);
  });

  it('presigns an upload only for a school the caller may send for', async () => {
    const d = deps();
    const ok = await presignReturnUpload(
      d,
      { principal: school, audit: new Trail() },
      { urn: URN, format: 'ctf', bytes: 10 },
    );
    expect(ok).toMatchObject({ ok: true, value: { contentType: 'application/xml' } });
    expect([...d.returns.items.values()]).toMatchObject([{ status: 'awaiting_upload', urn: URN, format: 'ctf' }]);
    expect(
      await presignReturnUpload(d, { principal: school, audit: new Trail() }, { urn: OTHER, format: 'csv', bytes: 10 }),
    ).toMatchObject({ ok: false, refused: 'forbidden' });
  });
});

describe('reading a return', () => {
  it('shows a return to its school and the LA, and to no other school (as unknown)', async () => {
    const d = deps();
    const sent = await submitReturn(d, { principal: school, audit: new Trail() }, { format: 'csv', body: csv(URN) });
    if (!sent.ok) throw new Error(sent.detail);
    const id = sent.value.returnId;
    expect((await readReturn(d, { principal: officer, audit: new Trail() }, id)).ok).toBe(true);
    const audit = new Trail();
    const other: Principal = { sub: 's2', role: 'school', la: '999', urn: OTHER };
    expect(await readReturn(d, { principal: other, audit }, id)).toMatchObject({ ok: false, refused: 'not_found' });
    expect(audit.notes).toEqual([{ target: `return:${id}`, outcome: 'not_found' }]);
    expect(await readReturn(d, { principal: officer, audit: new Trail() }, '../etc')).toMatchObject({
      ok: false,
      refused: 'not_found',
    });
  });

  it('hands out the file as received, or says it has not been uploaded yet', async () => {
    const d = deps();
    const sent = await submitReturn(d, { principal: school, audit: new Trail() }, { format: 'csv', body: csv(URN) });
    if (!sent.ok) throw new Error(sent.detail);
    expect(await returnFile(d, { principal: school, audit: new Trail() }, sent.value.returnId)).toMatchObject({
      ok: true,
      value: { area: 'returns', filename: `${sent.value.returnId}.csv` },
    });
    const up = await presignReturnUpload(
      d,
      { principal: school, audit: new Trail() },
      { urn: URN, format: 'csv', bytes: 10 },
    );
    if (!up.ok) throw new Error(up.detail);
    expect(await returnFile(d, { principal: school, audit: new Trail() }, up.value.returnId)).toMatchObject({
      ok: false,
      refused: 'not_found',
      detail: 'The file has not been uploaded yet.',
    });
  });
});
