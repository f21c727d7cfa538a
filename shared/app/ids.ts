/** Identifiers for things a use case creates (returns, referrals, imports): time-ordered, unguessable. */
import { randomBytes } from 'node:crypto';

export function newId(prefix: string): string {
  return `${prefix}${Date.now().toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}
