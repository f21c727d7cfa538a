/**
 * Structured logging and metrics (Powertools), one instance per process. Never log names, UPNs,
 * dates of birth or marks: log identifiers of returns, schools and counts only.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'attendance-hub' });

/**
 * An error as a log field: its class and its message with anything quoted, UPN-shaped or
 * date-shaped masked. Library messages quote their input (JSON.parse's `Unexpected token …,
 * "…" is not valid JSON` shows the text around the fault, which in a register is names and
 * marks), so a message is never logged as it is.
 */
export function errorSummary(err: unknown): { name: string; message: string } {
  const name = err instanceof Error ? err.name : 'Error';
  return { name, message: maskPupilData(err instanceof Error ? err.message : String(err)).slice(0, 300) };
}

/** Text with everything from its first quote to its last, UPNs and dates replaced by placeholders. */
export function maskPupilData(text: string): string {
  const quote = /["'`]/;
  const first = text.search(quote);
  let out = text;
  if (first >= 0) {
    let last = -1;
    for (let i = text.length - 1; i > first; i--) if (quote.test(text[i])) { last = i; break; }
    out = `${text.slice(0, first)}[quoted text]${last > first ? text.slice(last + 1) : ''}`;
  }
  return out
    .replace(/\b[A-Za-z]\d{11}[0-9A-Za-z]\b/g, '[upn]')
    .replace(/\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}\/\d{1,2}\/\d{4}\b/g, '[date]');
}
