/**
 * One entry point for every return format, so both formats go through exactly the same ingest:
 * a daily-return CSV and a Common Transfer File both become the same validated daily rows (the
 * shape `applyRows` takes), the same row errors (line, field, code, message) and the same file
 * errors (a problem status, title and detail). The API calls this at the door (file errors are
 * answered there, with the file quarantined) and the ingest Lambda calls it again on the stored
 * object (the only parse a presigned upload gets), so a format cannot behave differently by path.
 */
import { parseCtf } from './ctf.js';
import { parseDailyReturnCsv, type ReturnParse, type ReturnParseOptions } from './daily-return-csv.js';

export type ParsedReturn = ReturnParse;
export type ReturnFormat = 'csv' | 'ctf';

export function parseReturn(format: ReturnFormat, body: Buffer, options: ReturnParseOptions): ParsedReturn {
  switch (format) {
    case 'csv':
      return parseDailyReturnCsv(body, options);
    case 'ctf': {
      const parsed = parseCtf(body, { today: options.today, urnAllowed: options.urnAllowed, maxRows: options.maxRows });
      if (!parsed.ok) return parsed;
      // The parsed document (names, histories) is not needed past this point: only its rows are applied.
      return { ok: true, rows: parsed.rows, errors: parsed.errors, rowCount: parsed.rowCount };
    }
  }
}
