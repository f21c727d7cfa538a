/** One entry point for every return format, so both formats go through exactly the same ingest. */
import { parseDailyReturnCsv, type ReturnParse, type ReturnParseOptions } from '../../shared/formats/daily-return-csv.js';

export type ParsedReturn = ReturnParse;

export function parseReturn(format: 'csv' | 'ctf', body: Buffer, options: ReturnParseOptions): ParsedReturn {
  switch (format) {
    case 'csv':
      return parseDailyReturnCsv(body, options);
    case 'ctf':
      return {
        ok: false,
        error: { status: 415, code: 'unsupported_format', title: 'Unsupported format', detail: 'CTF returns are not accepted by this build' },
      };
  }
}
