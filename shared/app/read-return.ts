/**
 * Read a return (docs/design.md §4 GET /v1/returns/{returnId} and its file): visible to whoever may
 * upload for its school and to whoever sent it; anyone else is told there is no such return. Row
 * errors name pupils (a CTF's totals errors give the UPN), so every read is audited.
 */
import { mayReadReturn } from '../domain/access.js';
import type { ReturnRecord } from '../store/returns.js';
import { done, refuse, type Outcome } from './outcome.js';
import type { FileArea } from './ports.js';
import { returnFileName, type Caller, type ReturnDeps } from './submit-return.js';

const RETURN_ID = /^[A-Za-z0-9_-]{6,64}$/;

async function visibleReturn(
  deps: Pick<ReturnDeps, 'returns'>,
  { principal }: Caller,
  returnId: string,
): Promise<ReturnRecord | undefined> {
  if (!RETURN_ID.test(returnId)) return undefined;
  const record = await deps.returns.get(returnId);
  return record && mayReadReturn(principal, record) ? record : undefined;
}

export async function readReturn(
  deps: Pick<ReturnDeps, 'returns'>,
  caller: Caller,
  returnId: string,
): Promise<Outcome<ReturnRecord>> {
  const r = await visibleReturn(deps, caller, returnId);
  if (!r) {
    caller.audit.record({ target: `return:${returnId.slice(0, 64)}`, outcome: 'not_found' });
    return refuse('not_found', 'No such return.');
  }
  caller.audit.record({ target: `return:${r.returnId}`, outcome: 'ok', urn: r.urn });
  return done(r);
}

export interface StoredReturnFile {
  area: FileArea;
  key: string;
  filename: string;
  contentType: string;
}

/** Where the file is, exactly as it was received (rejected files included), for the door to hand out. */
export async function returnFile(
  deps: Pick<ReturnDeps, 'returns' | 'files'>,
  caller: Caller,
  returnId: string,
): Promise<Outcome<StoredReturnFile>> {
  const r = await visibleReturn(deps, caller, returnId);
  if (!r) return refuse('not_found', 'No such return.');
  const area: FileArea = r.objectKey.startsWith('quarantine/') ? 'quarantine' : 'returns';
  if (!(await deps.files.exists(area, r.objectKey)))
    return refuse(
      'not_found',
      r.status === 'awaiting_upload' ? 'The file has not been uploaded yet.' : 'No such file.',
    );
  caller.audit.record({ target: `return:${r.returnId}`, outcome: 'ok', urn: r.urn });
  return done({ area, key: r.objectKey, ...returnFileName(r) });
}
