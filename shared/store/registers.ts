/** School registers in S3: one gzipped JSON object per school per academic year. */
import { resourceName } from '../config.js';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  deserializeRegister,
  emptyRegister,
  serializeRegister,
  type SchoolRegister,
  type SerializedRegister,
} from '../domain/register.js';
import { getJson, putJson } from './blobs.js';
import { s3Client } from './clients.js';
import { paths } from './keys.js';

function bucket(): string {
  return resourceName('registersBucket');
}

export async function loadRegister(urn: string, academicYear: number): Promise<SchoolRegister> {
  const found = await getJson<SerializedRegister>(bucket(), paths.register(academicYear, urn));
  return found ? deserializeRegister(found.value) : emptyRegister(urn, academicYear);
}

export async function saveRegister(register: SchoolRegister): Promise<void> {
  await putJson(bucket(), paths.register(register.academicYear, register.urn), serializeRegister(register));
}

/** URNs with a register for the year. */
export async function listRegisterUrns(academicYear: number): Promise<string[]> {
  const urns: string[] = [];
  let token: string | undefined;
  do {
    const res = await s3Client().send(
      new ListObjectsV2Command({
        Bucket: bucket(),
        Prefix: paths.registersPrefix(academicYear),
        ContinuationToken: token,
      }),
    );
    for (const o of res.Contents ?? []) {
      const m = /\/([^/]+)\.json\.gz$/.exec(o.Key ?? '');
      if (m) urns.push(m[1]);
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return urns.sort();
}
