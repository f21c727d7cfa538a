// Work-arounds for defects of the embedded engines, applied before either is started (local/engines.ts
// in process, local/engine-host.mjs in the engine process). Plain JavaScript so the engine process
// starts without a TypeScript loader. What each fixes, with the evidence: docs/benchmarks.md
// ("The local engines at 600 schools") and docs/decisions.md.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

let applied = false;

/**
 * dynalite 4.0.0 reads LevelDB through a stream that closes its iterator with `iterator.return()`,
 * which abstract-level 3 iterators do not have (they have `close()`): every Query and Scan leaves a
 * LevelDB iterator open for the life of the process. An open iterator pins the LevelDB version and
 * memtables it was made on, so no table file a later compaction replaces is ever deleted: the data
 * directory grows with every byte written, not with the data held (30 schools, one week: 81 MB on
 * disk for 7.5 MB of data; 600 schools: 32 GB), and the engine process's memory with it. Giving the
 * iterators the `return()` the stream looks for closes each one when its stream ends or is destroyed.
 */
function closeLevelIterators() {
  // The abstract-level that dynalite's LevelDB binding (level → classic-level) actually loads.
  const fromDynalite = createRequire(require.resolve('dynalite'));
  const fromLevel = createRequire(fromDynalite.resolve('level'));
  const fromClassic = createRequire(fromLevel.resolve('classic-level'));
  const { AbstractIterator, AbstractValueIterator, AbstractKeyIterator } = fromClassic('abstract-level');
  for (const cls of [AbstractIterator, AbstractValueIterator, AbstractKeyIterator]) {
    // The prototype that defines close() (the iterators' common base).
    let proto = cls.prototype;
    while (proto && !Object.prototype.hasOwnProperty.call(proto, 'close')) proto = Object.getPrototypeOf(proto);
    if (!proto || typeof proto.return === 'function') continue;
    Object.defineProperty(proto, 'return', {
      configurable: true,
      writable: true,
      value: async function () {
        await this.close();
        return { done: true, value: undefined };
      },
    });
  }
}

/**
 * s3rver 3.7.1 makes ListObjectsV2's continuation token with single DES (`createCipheriv('des', …)`),
 * which OpenSSL 3 (Node 17 and later) no longer offers without its legacy provider: every listing
 * that does not fit in one page (more than 1,000 keys, or more than MaxKeys) fails with a 500
 * InternalError, on every retry. The 600-school bench's storage count lists the returns bucket (about
 * 1,850 raw returns after the LA day) and stopped there. Triple DES with its three keys equal is
 * single DES, byte for byte, and is in OpenSSL 3's default provider: a 'des' cipher is made that way.
 * Nothing else in the service uses DES (nothing could: it throws).
 */
function desForContinuationTokens() {
  const crypto = require('node:crypto');
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return; // DES is available (the legacy provider is loaded): nothing to do
  } catch {
    // ERR_OSSL_EVP_UNSUPPORTED: stand in for it below
  }
  const viaTripleDes = (make) =>
    function (algorithm, key, iv, options) {
      if (typeof algorithm === 'string' && algorithm.toLowerCase() === 'des' && key?.length === 8) {
        const k = Buffer.from(key);
        return make.call(this, 'des-ede3-cbc', Buffer.concat([k, k, k]), iv, options);
      }
      return make.call(this, algorithm, key, iv, options);
    };
  crypto.createCipheriv = viaTripleDes(crypto.createCipheriv);
  crypto.createDecipheriv = viaTripleDes(crypto.createDecipheriv);
}

/** Apply every work-around once, before dynalite or s3rver is created. */
export function applyEngineFixes() {
  if (applied) return;
  applied = true;
  closeLevelIterators();
  desForContinuationTokens();
}

/**
 * s3rver answers any fault of its own (a file-system error, a crypto error) with a bare 500
 * InternalError and, silent, logs nothing: say what it was, so the next such fault names its cause.
 * The path is the bucket and key (URNs, years, return ids; never pupil data).
 */
export function logEngineFault(err, ctx) {
  if (typeof err?.status === 'number' && err.status < 500) return; // S3's own 4xx answers (NoSuchKey, …)
  const cause = [err?.code, err?.syscall].filter(Boolean).join(' ');
  process.stderr.write(
    `[engines] s3rver 500 on ${ctx?.method ?? '?'} ${ctx?.path ?? '?'}: ${err?.name ?? 'Error'}${cause ? ` (${cause})` : ''}: ${err?.message ?? err}\n`,
  );
}
