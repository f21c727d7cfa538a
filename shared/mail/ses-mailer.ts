/**
 * The mailer in AWS: Amazon SES (API v2 SendEmail with raw content), given exactly the MIME message
 * the local outbox writes (mailer.ts `rawMessage`), so what a developer reads locally is what SES
 * sends. The From address must be the SES identity the stack verifies (lib/notifications.ts), which
 * is also the only identity the function may send as.
 */
import { randomUUID } from 'node:crypto';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { withoutSdkLogger } from '../store/table.js';
import { rawMessage, type Mailer } from './mailer.js';

let client: SESv2Client | undefined;

export function sesMailer(from: string, configurationSet?: string): Mailer {
  client ??= withoutSdkLogger(new SESv2Client({}));
  const ses = client;
  return {
    async send(m) {
      // SES replaces the Message-ID with its own; ours names the message until then.
      const raw = rawMessage(m, from, `${randomUUID()}@attendance-hub`);
      const res = await ses.send(
        new SendEmailCommand({
          FromEmailAddress: from,
          Destination: { ToAddresses: [m.to] },
          Content: { Raw: { Data: Buffer.from(raw, 'utf8') } },
          ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
        }),
      );
      if (!res.MessageId) throw new Error('SES accepted the message but returned no message id');
      return { messageId: res.MessageId };
    },
  };
}
