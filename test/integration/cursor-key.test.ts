/**
 * Every API instance signs list cursors with one key kept in the table, so a cursor issued by one
 * Lambda instance is accepted by the next (issue 15: cursors signed and bound to their query).
 * A second "instance" is a fresh copy of the store module (vi.resetModules), with its own memory.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestService, type TestService } from './harness.js';

type TableModule = typeof import('../../shared/store/table.js');

async function freshInstance(): Promise<TableModule> {
  vi.resetModules();
  return import('../../shared/store/table.js');
}

describe('the cursor signing key shared through the table', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService();
  });
  afterAll(async () => {
    await service.stop();
  });

  it('lets a second instance accept a cursor the first issued, and still refuses a forged one', async () => {
    const first = await freshInstance();
    await first.loadCursorSigningKey();
    const cursor = first.encodeCursor({ o: 50 }, 'page:pupils|{"flag":"persistent_absence"}');

    const second = await freshInstance();
    await second.loadCursorSigningKey();
    expect(second.decodeCursor(cursor, 'page:pupils|{"flag":"persistent_absence"}')).toEqual({ o: 50 });
    // Bound to its query: the same cursor for another list is refused.
    expect(() => second.decodeCursor(cursor, 'page:pupils|{"flag":"severe_absence"}')).toThrow(
      second.InvalidCursorError,
    );
    // A payload changed by the client is refused.
    const [, mac] = cursor.split('.');
    const forged = `${Buffer.from(JSON.stringify({ o: 0 })).toString('base64url')}.${mac}`;
    expect(() => second.decodeCursor(forged, 'page:pupils|{"flag":"persistent_absence"}')).toThrow(
      second.InvalidCursorError,
    );
  });

  it("without the shared key, an instance refuses another instance's cursor", async () => {
    const first = await freshInstance();
    const cursor = first.encodeCursor({ o: 50 }, 'b');
    const second = await freshInstance();
    expect(() => second.decodeCursor(cursor, 'b')).toThrow(second.InvalidCursorError);
  });
});
