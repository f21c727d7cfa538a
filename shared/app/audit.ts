/**
 * The audit trail a use case notes what it read or changed on (docs/design.md §4). The API's router
 * hands each audited request one, filed under the route's declared action and written when the
 * request ends; a use case called from elsewhere gets whatever trail its door keeps.
 */

/** One entry: the action is the door's (the route's declared action), not the use case's. */
export interface AuditNote {
  target: string;
  outcome: string;
  urn?: string;
  upn?: string;
  count?: number;
}

export interface AuditTrail {
  /** One entry (a read of one pupil names it with `upn`; a refusal says so in `outcome`). */
  record(note: AuditNote): void;
  /** A list read: the entry (with the count) and one entry per pupil returned, filed under that pupil. */
  pupils(note: Omit<AuditNote, 'upn' | 'count'>, upns: Iterable<string>): void;
}
