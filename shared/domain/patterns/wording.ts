/** Words for the officer-facing sentences: dates, counts and lists as a person would say them. */

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** 2025-10-24 → "24 October 2025". */
export function spokenDate(iso: string): string {
  const [y, m, d] = iso.split('-').map(Number);
  return `${d} ${MONTHS[m - 1]} ${y}`;
}

/** "1 session" / "3 sessions". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;
}

/** A count to one decimal place when under 10, else whole ("2.4", "13"). */
export function about(x: number): string {
  return x < 10 ? x.toFixed(1) : Math.round(x).toLocaleString('en-GB');
}

/** "a, b and c". */
export function listOf(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** A percentage to one decimal place. */
export function percent(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** The name of a break for a sentence: its label, else its dates. */
export function breakName(b: { start: string; end: string; label: string | null }): string {
  return b.label ?? `the break of ${spokenDate(b.start)} to ${spokenDate(b.end)}`;
}

/** A break named with its year ("February half term 2025"), for evidence that spans two school years. */
export function datedBreakName(b: { start: string; end: string; label: string | null }): string {
  return b.label ? `${b.label} ${b.start.slice(0, 4)}` : breakName(b);
}

/** Break names for a sentence: with their years when the breaks span more than one academic year (a 12-month window). */
export function breakNames(breaks: ReadonlyArray<{ start: string; end: string; label: string | null }>): string[] {
  const years = new Set(
    breaks.map((b) => (b.start.slice(5) >= '08-01' ? Number(b.start.slice(0, 4)) : Number(b.start.slice(0, 4)) - 1)),
  );
  return [...new Set(breaks.map(years.size > 1 ? datedBreakName : breakName))];
}
