/**
 * `npm run --silent cli -- token --role <school|la_officer|vsh|admin> [--urn <urn>] [--la <code>]`
 * prints just a token the local server (same ATTENDANCE_HUB_DATA) accepts.
 */
import { LOCAL_LA_CODE } from '../../shared/config.js';
import { isRole } from '../../shared/domain/access.js';
import { mintToken } from '../../local/tokens.js';
import { dataDirectory } from '../../local/settings.js';
import { numberOption, parseArgs, stringOption } from './args.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs(args);
  const role = stringOption(parsed, 'role');
  if (!isRole(role)) {
    process.stderr.write(
      'usage: token --role <school|la_officer|vsh|admin> [--urn <6-digit URN>] [--la <LA code>] [--sub <id>] [--ttl <seconds>]\n',
    );
    return 2;
  }
  const urn = stringOption(parsed, 'urn');
  if (role === 'school' && !/^\d{6}$/.test(urn ?? '')) {
    process.stderr.write('a school token needs --urn <6-digit URN>\n');
    return 2;
  }
  const token = await mintToken(dataDirectory(), {
    role,
    urn,
    la: stringOption(parsed, 'la', process.env.LA_CODE ?? LOCAL_LA_CODE) as string,
    sub: stringOption(parsed, 'sub'),
    ttlSeconds: numberOption(parsed, 'ttl', 12 * 3600),
  });
  process.stdout.write(`${token}\n`);
  return 0;
}
