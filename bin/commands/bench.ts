/**
 * `bench`: the benchmark (bench/index.ts; docs/benchmarks.md).
 *
 *   npm run bench -- --quick        # under two minutes on a 2-core machine: 60 schools, two weeks
 *   npm run bench                   # full: 600 schools, 230,000 pupils, a whole year, then one LA day
 *
 * Options: --schools N, --pupils M, --from/--to YYYY-MM-DD, --seed S (default 'bench'), --work DIR
 * (default .tmp/bench/<mode>), --reuse (keep an LA already generated there), --skip parsing,bundles,service,web,
 * --scaling 30,120,600 (the service phases at each number of schools, the same pupils per school: the scaling table).
 * Exit status 1 when the service's figures differ from DuckDB's, or any return is not accepted.
 */
import { join } from 'node:path';
import { numberOption, parseArgs, stringOption } from './args.js';
import { parseScalingSizes } from '../../bench/scaling.js';

const USAGE =
  'usage: bench [--quick] [--schools N] [--pupils M] [--from D] [--to D] [--seed S] [--work DIR] [--reuse] [--skip parsing,bundles,service,web] [--scaling 30,120,600]';

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed.options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // Handlers log at WARN on the terminal; metrics are not emitted.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const { BenchFailure, BENCH_ROOT, MODES, runBench } = await import('../../bench/index.js');
  const quick = parsed.options.quick === true;
  const scalingText = stringOption(parsed, 'scaling');
  let scaling: number[] | undefined;
  try {
    scaling = scalingText === undefined ? undefined : parseScalingSizes(scalingText);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const mode = quick ? MODES.quick : MODES.full;
  const options = {
    quick,
    schools: numberOption(parsed, 'schools', mode.schools),
    pupils: numberOption(parsed, 'pupils', mode.pupils),
    from: stringOption(parsed, 'from', mode.from)!,
    to: stringOption(parsed, 'to', mode.to)!,
    seed: stringOption(parsed, 'seed', 'bench')!,
    reuse: parsed.options.reuse === true,
    skip: new Set((stringOption(parsed, 'skip', '') ?? '').split(',').filter(Boolean)),
    ...(scaling ? { scaling } : {}),
    // Set by a scaling run for the child process of each other size.
    ...(typeof parsed.options['latency-levels'] === 'string'
      ? {
          latencyLevels: parsed.options['latency-levels']
            .split(',')
            .map(Number)
            .filter((x) => Number.isInteger(x) && x > 0),
        }
      : {}),
    ...(typeof parsed.options.results === 'string' ? { resultsFile: parsed.options.results } : {}),
    workDir: stringOption(parsed, 'work', join(BENCH_ROOT, '.tmp', 'bench', quick ? 'quick' : 'full'))!,
    log: (line: string) => process.stderr.write(`[bench] ${line}\n`),
  };
  // Keep-alive sockets and the SDK's agents may outlive the run: leave once it is done.
  const leave = (code: number) => setTimeout(() => process.exit(code), 2000).unref();
  try {
    const { file } = await runBench(options);
    process.stderr.write(`[bench] results: ${file}\n`);
    leave(0);
    return 0;
  } catch (err) {
    if (err instanceof BenchFailure) {
      process.stderr.write(`\nBENCH FAILED: ${err.message}\n`);
      leave(1);
      return 1;
    }
    // An engine's fault at full size (e.g. s3rver's InternalError during the 600-school cold rollup)
    // says little by its message alone: name the call and where it came from.
    const e = err as Error & { $metadata?: unknown; Code?: string };
    process.stderr.write(
      `\nBENCH FAILED: ${e.name}: ${e.message}\n${e.stack ?? ''}\n${JSON.stringify(e.$metadata ?? {})}\n`,
    );
    leave(1);
    return 1;
  }
}
