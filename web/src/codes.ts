/**
 * The DfE attendance codes by what they mean, for the marks calendar's colours and labels. The web app
 * is a client of the public API only, so it keeps its own copy of this public table;
 * test/unit/web/codes.test.ts checks it against the service's (shared/domain/codes.ts).
 */
export type MarkCategory =
  'present' | 'approved_activity' | 'authorised' | 'unauthorised' | 'not_possible' | 'administrative';

const CODES_BY_CATEGORY: Record<MarkCategory, readonly string[]> = {
  present: ['/', '\\', 'L'],
  approved_activity: ['K', 'V', 'P', 'W', 'B', 'J'],
  authorised: ['C', 'C1', 'C2', 'E', 'I', 'J1', 'M', 'R', 'S', 'T', 'H', 'F'],
  unauthorised: ['G', 'N', 'O', 'U'],
  not_possible: ['D', 'Q', 'X', 'Y', 'Y1', 'Y2', 'Y3', 'Y4', 'Y5', 'Y6', 'Y7'],
  // Z (not on roll yet) and # (planned whole-school closure before pupils' first day).
  administrative: ['Z', '#'],
};

const CATEGORY_OF = new Map(
  (Object.entries(CODES_BY_CATEGORY) as Array<[MarkCategory, readonly string[]]>).flatMap(([category, codes]) =>
    codes.map((code) => [code, category] as const),
  ),
);

/** What a mark means, or undefined for a code the app does not know. */
export function categoryOf(code: string): MarkCategory | undefined {
  return CATEGORY_OF.get(code);
}
