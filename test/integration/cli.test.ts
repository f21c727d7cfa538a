/** The command line against a running service: `token` mints what the server accepts; `upload` sends a directory in order. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestService, type TestService } from './harness.js';
import { returnCsv, upnFor } from '../support/returns.js';

const URN = '123456';
let svc: TestService;
let dir: string;

beforeAll(async () => {
  svc = await startTestService();
  dir = mkdtempSync(join(tmpdir(), 'attendance-hub-cli-'));
});
afterAll(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await fn(), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('token', () => {
  it('prints just a token the running server accepts, for the data directory it shares', async () => {
    const { run } = await import('../../bin/commands/token.js');
    process.env.ATTENDANCE_HUB_DATA = svc.dataDir;
    const { code, out } = await capture(() => run(['--role', 'la_officer']));
    expect(code).toBe(0);
    const token = out.trim();
    expect(token.split('.')).toHaveLength(3);
    expect((await svc.request('GET', '/v1/schools', { token })).status).toBe(200);
  });

  it('refuses a school token without a URN', async () => {
    const { run } = await import('../../bin/commands/token.js');
    const { code, err } = await capture(() => run(['--role', 'school']));
    expect(code).toBe(2);
    expect(err).toMatch(/--urn/);
  });
});

describe('upload', () => {
  it('uploads every file of a directory in name order, prints a summary, and exits 0 when all are accepted', async () => {
    const { run } = await import('../../bin/commands/upload.js');
    const upn = upnFor(70);
    writeFileSync(join(dir, '2025-09-01.csv'), returnCsv([{ urn: URN, upn, date: '2025-09-01', am: 'N', pm: 'N' }]));
    writeFileSync(join(dir, '2025-09-02.csv'), returnCsv([{ urn: URN, upn, date: '2025-09-01', am: 'I', pm: 'I' }])); // the correction, sent second
    const token = await svc.token('school', { urn: URN });
    const { code, out } = await capture(() => run([dir, '--token', token, '--url', svc.url]));
    expect(code).toBe(0);
    expect(out).toMatch(/2 files in .* 2 accepted, 0 accepted with row errors, 0 rejected; 2 rows accepted/);
    const sessions = (
      await svc.request('GET', `/v1/pupils/${upn}/sessions?from=2025-09-01&to=2025-09-01`, { token })
    ).json().sessions;
    expect(sessions.map((s: { code: string }) => s.code)).toEqual(['I', 'I']);
  });

  it('exits non-zero and names the file when a file is rejected', async () => {
    const { run } = await import('../../bin/commands/upload.js');
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'urn,upn,date\n1,2,3\n');
    const token = await svc.token('school', { urn: URN });
    const { code, err } = await capture(() => run([bad, '--token', token, '--url', svc.url]));
    expect(code).toBe(1);
    expect(err).toMatch(/rejected: .*bad\.csv/);
  });
});

describe('referral-lists', () => {
  it('finds the back-fill done by the local runtime at start, and runs it again when forced', async () => {
    const { run } = await import('../../bin/commands/referral-lists.js');
    // The running service's table (its environment names it): the runtime gave the lists at start.
    const first = await capture(() => run([]));
    expect(first.code).toBe(0);
    expect(first.out).toBe('referral-lists: already done (--force to run again)\n');
    const forced = await capture(() => run(['--force']));
    expect(forced.code).toBe(0);
    expect(forced.out).toMatch(/^referral-lists: \d+ cases given their list entries\n$/);
    expect((await svc.request('GET', '/v1/referrals', { token: await svc.token('la_officer') })).status).toBe(200);
  });
});
