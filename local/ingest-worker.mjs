/**
 * Entry of an ingest worker thread (local/ingest-workers.ts). The service's modules are TypeScript,
 * run by tsx (`npm start`, the bench) or by vitest (the tests); a worker thread does not always
 * inherit their loader (Node 20 keeps module hooks per thread, and tsx registers its own in the main
 * thread only), so when this thread cannot load a .ts module, tsx's loader is registered here and the
 * module loaded again. Where the hooks are shared with workers (later Node lines), the first import
 * works and nothing is registered twice.
 */
const entry = new URL('./ingest-worker.ts', import.meta.url).href;
try {
  await import(entry);
} catch (err) {
  const code = /** @type {{ code?: string }} */ (err)?.code;
  // A .ts file not understood (no loader), or understood but its `.js` imports not resolved (Node's
  // own type stripping without tsx's resolution): register tsx and import again, under a new URL.
  if (code !== 'ERR_UNKNOWN_FILE_EXTENSION' && code !== 'ERR_MODULE_NOT_FOUND') throw err;
  const { register } = await import('tsx/esm/api');
  register();
  await import(`${entry}?tsx`);
}
