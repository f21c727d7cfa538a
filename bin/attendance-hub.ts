#!/usr/bin/env -S npx tsx
/**
 * The attendance-hub command line: `npm run --silent cli -- <command> [options]`.
 * Each command lives in bin/commands/<command>.ts and exports `run(args: string[]): Promise<number>`
 * (the process exit code), so commands load only what they need.
 */
const COMMANDS: Record<string, { module: string; summary: string }> = {
  serve: { module: './commands/serve.js', summary: 'run the whole service locally on embedded engines (npm start)' },
  token: {
    module: './commands/token.js',
    summary: 'print a signed token for the local server: --role <role> [--urn <urn>] [--la <code>]',
  },
  generate: {
    module: './commands/generate.js',
    summary: 'write a synthetic LA: --schools N --pupils M --from D --to D --seed S --out DIR',
  },
  upload: { module: './commands/upload.js', summary: 'upload returns through the API: DIR|FILE --token T [--url U]' },
  bench: { module: './commands/bench.js', summary: 'run the benchmarks (npm run bench [-- --quick])' },
  'referral-lists': {
    module: './commands/referral-lists.js',
    summary: 'give cases stored before the referral list partitions their entries (once): [--data DIR] [--force]',
  },
  evaluate: {
    module: './commands/evaluate.js',
    summary: 'score the threshold-gaming detectors against a synthetic LA ground truth',
  },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`);
    process.stderr.write(`usage: attendance-hub <command> [options]\n\ncommands:\n${lines.join('\n')}\n`);
    return name ? 2 : 0;
  }
  const mod = (await import(command.module)) as { run: (args: string[]) => Promise<number> };
  return mod.run(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
