/**
 * Bank holidays in England and Wales (docs/design.md §2.3: never school days), from the gov.uk feed snapshot
 * shipped in shared/reference. The JSON is imported (not read from disk) so esbuild inlines it into
 * each Lambda bundle and no file path has to survive bundling.
 */
import feed from '../reference/bank-holidays.json' with { type: 'json' };

interface FeedEvent {
  title: string;
  date: string;
  notes?: string;
  bunting?: boolean;
}

let cached: ReadonlyMap<string, string> | undefined;

/** Date (YYYY-MM-DD) → title, in date order, for the 'england-and-wales' division of the feed. */
export function englandAndWalesBankHolidays(): ReadonlyMap<string, string> {
  if (cached) return cached;
  const events = (feed['england-and-wales'].events as FeedEvent[]).slice();
  events.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  cached = new Map(events.map((e) => [e.date, e.title]));
  return cached;
}

/** First and last dates the snapshot covers: callers warn when asked about dates beyond them. */
export function bankHolidayCoverage(): { from: string; to: string } {
  const dates = [...englandAndWalesBankHolidays().keys()];
  return { from: dates[0], to: dates[dates.length - 1] };
}
