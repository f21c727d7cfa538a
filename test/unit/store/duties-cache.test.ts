/**
 * An LA-wide read of the schools' duties documents (issue 20) costs one listing plus a read of each
 * document that changed since, not a read of every school's document: the listing's ETags are the
 * version check (shared/store/duties.ts).
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';

const objects = new Map<string, { etag: string; urn: string }>();
const reads: string[] = [];

vi.mock('../../../shared/store/clients.js', () => ({
  s3Client: () => ({
    send: async () => ({ Contents: [...objects].map(([Key, o]) => ({ Key, ETag: o.etag })), IsTruncated: false }),
  }),
}));
vi.mock('../../../shared/store/blobs.js', () => ({
  getJson: async (_bucket: string, key: string) => {
    reads.push(key);
    const o = objects.get(key);
    return o ? { value: { urn: o.urn, academicYear: 2025, etag: o.etag }, etag: o.etag } : undefined;
  },
  putJson: async () => undefined,
}));

const { listSchoolDuties, resetSchoolDutiesCache } = await import('../../../shared/store/duties.js');

const key = (urn: string) => `duties/2025/${urn}.json.gz`;

beforeEach(() => {
  process.env.REGISTERS_BUCKET = 'test-bucket';
  objects.clear();
  reads.length = 0;
  resetSchoolDutiesCache();
  for (const urn of ['100001', '100002', '100003']) objects.set(key(urn), { etag: `"${urn}-v1"`, urn });
});

describe('listSchoolDuties (LA-wide)', () => {
  it('reads every document once, then only those whose ETag moved', async () => {
    expect((await listSchoolDuties(2025)).map((d) => d.urn)).toEqual(['100001', '100002', '100003']);
    expect(reads).toHaveLength(3);
    reads.length = 0;
    expect((await listSchoolDuties(2025)).map((d) => d.urn)).toEqual(['100001', '100002', '100003']);
    expect(reads).toEqual([]);
    objects.set(key('100002'), { etag: '"100002-v2"', urn: '100002' });
    const after = await listSchoolDuties(2025);
    expect(reads).toEqual([key('100002')]);
    expect(after.find((d) => d.urn === '100002')).toMatchObject({ etag: '"100002-v2"' });
  });

  it('drops a school whose document is gone, and picks up a new one', async () => {
    await listSchoolDuties(2025);
    objects.delete(key('100001'));
    objects.set(key('100004'), { etag: '"100004-v1"', urn: '100004' });
    reads.length = 0;
    expect((await listSchoolDuties(2025)).map((d) => d.urn)).toEqual(['100002', '100003', '100004']);
    expect(reads).toEqual([key('100004')]);
  });
});
