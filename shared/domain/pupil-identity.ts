/**
 * Whether a school's rows are about the pupil the LA already holds under that UPN (issue 15). UPNs
 * follow a public pattern, so a UPN alone never proves that a school has the child: a school may
 * add an enrolment to a pupil another school holds only when its rows agree with the record on the
 * date of birth and on the surname or the forename. Rows that do not agree (or say nothing to check)
 * are refused as `identity_mismatch` and wait on the LA's review list.
 */
export interface PupilIdentity {
  forename?: string;
  surname?: string;
  dob?: string;
}

/** A name compared without case, accents, punctuation or spacing ("O'Neil" = "o neil" = "ONEIL"). */
function comparableName(name: string | undefined): string {
  return (name ?? '')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/**
 * Whether `sent` agrees with any identity the record holds (each school's details for the child): the
 * same date of birth, and the same surname or the same forename. A row that carries no date of
 * birth, or no name, cannot agree: there is nothing to check it against (docs/decisions.md).
 */
export function identityAgrees(sent: PupilIdentity, held: readonly PupilIdentity[]): boolean {
  if (!sent.dob) return false;
  const surname = comparableName(sent.surname);
  const forename = comparableName(sent.forename);
  if (!surname && !forename) return false;
  return held.some(
    (h) =>
      h.dob === sent.dob &&
      ((surname !== '' && surname === comparableName(h.surname)) ||
        (forename !== '' && forename === comparableName(h.forename))),
  );
}

/** The identity a return's rows give for one pupil: each field from the first row (by line) that has it. */
export function identityOfRows(rows: ReadonlyArray<PupilIdentity & { line?: number }>): PupilIdentity {
  const out: PupilIdentity = {};
  for (const r of [...rows].sort((a, b) => (a.line ?? 0) - (b.line ?? 0))) {
    if (out.forename === undefined && r.forename) out.forename = r.forename;
    if (out.surname === undefined && r.surname) out.surname = r.surname;
    if (out.dob === undefined && r.dob) out.dob = r.dob;
  }
  return out;
}
