/**
 * Mailers for the notification job. In AWS the message goes to Amazon SES (ses-mailer.ts); locally it is written as
 * the raw MIME message SES would be given, one .eml file per message in the data directory's outbox
 * (open it in any mail client), so a developer sees exactly what would be sent.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Mailer, OutgoingMessage } from '../app/notifications.js';

export type { Mailer, OutgoingMessage };

/** RFC 5322 header values: no CR/LF (no header injection), non-ASCII as RFC 2047 encoded words. */
function headerValue(v: string): string {
  const clean = v.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(clean) ? clean : `=?UTF-8?B?${Buffer.from(clean, 'utf8').toString('base64')}?=`;
}

/** The raw message SES's SendRawEmail (or SendEmail's Raw content) would be given. */
export function rawMessage(m: OutgoingMessage, from: string, messageId: string, date = new Date()): string {
  const body = `${m.preview}\r\n\r\n${m.text}\r\n\r\nOpen Attendance Hub: ${m.link}\r\n\r\nYou get this because of the alerts you chose in Attendance Hub.\r\n`;
  return [
    `From: ${headerValue(from)}`,
    `To: ${headerValue(m.to)}`,
    `Subject: ${headerValue(m.subject)}`,
    `Date: ${date.toUTCString()}`,
    `Message-ID: <${messageId}>`,
    `X-Attendance-Hub-Key: ${headerValue(m.key)}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(body, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n'),
    '',
  ].join('\r\n');
}

/** Locally: every message as an .eml file in `dir`, named by its date and key hash. */
export function fileOutboxMailer(dir: string, from = 'Attendance Hub <no-reply@attendance-hub.local>'): Mailer {
  mkdirSync(dir, { recursive: true });
  return {
    async send(m) {
      const hash = createHash('sha256').update(m.key).digest('hex').slice(0, 20);
      const messageId = `${hash}@attendance-hub.local`;
      writeFileSync(
        join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${hash}.eml`),
        rawMessage(m, from, messageId),
      );
      return { messageId };
    },
  };
}
