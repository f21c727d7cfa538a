/**
 * `npm run --silent cli -- referral-lists [--data DIR] [--force]`: the one-off back-fill of the
 * referral list partitions (issue 17, shared/app/referral-lists.ts `backfillReferralLists`). Cases
 * stored before searches read per-facet lists get their entries; until then searches read the
 * LA-wide list, so nothing is missed meanwhile. Safe to run beside the service and to run again.
 *
 * With TABLE_NAME set (and the AWS environment: region, credentials), the deployed table. Otherwise
 * the local store in --data (default ATTENDANCE_HUB_DATA or .data) with the server stopped; `npm
 * start` runs it at start anyway.
 */
import { DEFAULT_NAMES, ENV } from '../../shared/config.js';
import { dataDirectory } from '../../local/settings.js';
import { parseArgs, stringOption } from './args.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs(args);
  const force = parsed.options.force === true;
  let stop: (() => Promise<void>) | undefined;
  if (!process.env[ENV.table]) {
    const { startEngines, LOCAL_CREDENTIALS, LOCAL_REGION } = await import('../../local/engines.js');
    const engines = await startEngines(stringOption(parsed, 'data') ?? dataDirectory(), { inProcess: true });
    stop = () => engines.stop();
    process.env.AWS_REGION = LOCAL_REGION;
    process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = engines.dynamoEndpoint;
    process.env[ENV.table] = DEFAULT_NAMES.table;
  }
  try {
    const [{ backfillReferralLists }, { storedReferrals }] = await Promise.all([
      import('../../shared/app/referral-lists.js'),
      import('../../shared/app/wiring.js'),
    ]);
    const report = await backfillReferralLists(
      { referrals: storedReferrals },
      { force, onProgress: (cases) => process.stderr.write(`referral-lists: ${cases} cases done\n`) },
    );
    process.stdout.write(
      report.alreadyIndexed
        ? 'referral-lists: already done (--force to run again)\n'
        : `referral-lists: ${report.cases} cases given their list entries\n`,
    );
    return 0;
  } finally {
    (await import('../../shared/store/clients.js')).resetClients();
    await stop?.();
  }
}
