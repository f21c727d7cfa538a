/**
 * Load the school registry (docs/design.md §6 "School registry"; POST /v1/schools): a GIAS extract
 * CSV, kept as received and answered with a per-record report. Schools of other LAs are marked out
 * of area (they hold children the LA places there); the LA views are rolled up again, since their
 * phase groupings follow the registry.
 */
import { LIMITS } from '../config.js';
import { actorOf, type Principal } from '../domain/access.js';
import { academicYearOf, todayInEngland } from '../domain/dates.js';
import { parseGiasCsv } from '../formats/gias.js';
import { inParallel } from '../store/table.js';
import type { AuditTrail } from './audit.js';
import { newId } from './ids.js';
import { done, refuse, refuseFile } from './outcome.js';
import type { Imports, Registry } from './ports.js';

export async function importRegistry(
  deps: { imports: Imports; registry: Registry },
  { principal, audit }: { principal: Principal; audit: AuditTrail },
  body: Buffer,
) {
  if (body.length === 0) return refuse('invalid', 'The request has no body: send the GIAS extract CSV.');
  if (body.length > LIMITS.maxCohortUploadBytes)
    return refuse('too_large', `Registry uploads are limited to ${LIMITS.maxCohortUploadBytes} bytes.`);
  const importId = newId('g');
  await deps.imports.keepFile(importId, 'gias.csv', body, 'text/csv');
  const parsed = parseGiasCsv(body);
  if (parsed.fileError) {
    const e = parsed.fileError;
    audit.record({ target: `import:${importId}`, outcome: `rejected:${e.status}` });
    return refuseFile(e, { importId });
  }
  const la = deps.registry.laCode();
  await inParallel(parsed.schools, 8, async (s) => {
    await deps.registry.upsert(s.urn, {
      name: s.name,
      laCode: s.laCode,
      establishmentNumber: s.establishmentNumber,
      phase: s.phase,
      type: s.type,
      status: s.status,
      open: s.open,
      outOfArea: s.laCode !== la,
      inRegistry: true,
    });
  });
  const rejectedLines = new Set(parsed.errors.map((e) => e.line)).size;
  const counts = {
    records: parsed.schools.length + rejectedLines,
    accepted: parsed.schools.length,
    rejected: rejectedLines,
  };
  await deps.imports.put({
    importId,
    kind: 'registry',
    format: 'gias',
    importedAt: new Date().toISOString(),
    importedBy: actorOf(principal),
    files: ['gias.csv'],
    counts,
    errors: parsed.errors.slice(0, LIMITS.maxInlineRowErrors),
    errorsTruncated: parsed.errors.length > LIMITS.maxInlineRowErrors,
  });
  // Phase groupings in the LA view follow the registry.
  await deps.registry.requestRollup(academicYearOf(todayInEngland()));
  audit.record({
    target: `import:${importId}`,
    outcome: parsed.errors.length ? 'accepted_with_errors' : 'accepted',
    count: parsed.schools.length,
  });
  return done({
    importId,
    counts,
    outOfArea: parsed.schools.filter((s) => s.laCode !== la).length,
    errors: parsed.errors.slice(0, 1000),
  });
}
