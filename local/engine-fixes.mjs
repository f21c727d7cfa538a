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

/**
 * s3rver 3.7.1 writes an object in place, in three files (the body, its MD5 and its metadata), and
 * answers the PUT before the body is flushed; a GET reads the three with awaits between. A GET of a
 * key being overwritten can therefore read half-written metadata (JSON.parse fails: a 500
 * InternalError) or a body cut short (the response ends before its Content-Length: "aborted").
 * Measured with 2 writers and 6 readers of one 200 KB object for 8 s: 2 of about 900 reads a 500
 * and 12 aborted. S3 replaces an object atomically, and the service reads objects another process is
 * rewriting (the LA aggregate under the load test). So here a PUT writes the three files under
 * temporary names and, once all are on disk, renames them into place in one turn of the event loop;
 * a GET takes its metadata, MD5 and an open descriptor of the body in one turn too (synchronously),
 * and streams from that descriptor, so it sees one version whole, the old or the new.
 */
function atomicS3rverObjects() {
  const fs = require('node:fs');
  const { join, dirname, basename } = require('node:path');
  const { createHash, randomBytes } = require('node:crypto');
  const { Transform } = require('node:stream');
  const { pipeline } = require('node:stream/promises');
  const fromS3rver = createRequire(require.resolve('s3rver'));
  const FilesystemStore = fromS3rver('./stores/filesystem.js');
  const S3Object = fromS3rver('./models/object.js');
  const originalGetObject = FilesystemStore.prototype.getObject;

  const storedMetadata = (metadata) =>
    Object.fromEntries(
      Object.entries(metadata ?? {}).filter(
        ([k]) => S3Object.ALLOWED_METADATA.includes(k) || k.startsWith('x-amz-meta-'),
      ),
    );

  FilesystemStore.prototype.putObject = async function (object) {
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    const metadataPath = this.getResourcePath(object.bucket, object.key, 'metadata.json');
    await fs.promises.mkdir(dirname(objectPath), { recursive: true });
    // Not ending in the store's suffixes, so a listing never takes a temporary file for an object.
    const temp = (final) => join(dirname(final), `.${basename(final)}.${randomBytes(6).toString('hex')}.tmp`);
    const [tmpObject, tmpMd5, tmpMetadata] = [temp(objectPath), temp(`${objectPath}.md5`), temp(metadataPath)];
    const md5 = createHash('md5');
    let size = 0;
    try {
      if (Buffer.isBuffer(object.content)) {
        md5.update(object.content);
        size = object.content.length;
        await fs.promises.writeFile(tmpObject, object.content);
      } else {
        const count = new Transform({
          transform(chunk, _encoding, done) {
            md5.update(chunk);
            size += chunk.length;
            done(null, chunk);
          },
        });
        await pipeline(object.content, count, fs.createWriteStream(tmpObject));
      }
      const digest = md5.digest('hex');
      await fs.promises.writeFile(tmpMd5, digest);
      await fs.promises.writeFile(tmpMetadata, JSON.stringify(storedMetadata(object.metadata), null, 2));
      // All three on disk: into place in one turn, so no reader sees a mixture.
      fs.renameSync(tmpMetadata, metadataPath);
      fs.renameSync(tmpMd5, `${objectPath}.md5`);
      fs.renameSync(tmpObject, objectPath);
      return { size, md5: digest };
    } catch (err) {
      for (const f of [tmpObject, tmpMd5, tmpMetadata]) await fs.promises.rm(f, { force: true });
      throw err;
    }
  };

  FilesystemStore.prototype.getObject = async function (bucket, key, options) {
    const objectPath = this.getResourcePath(bucket, key, 'object');
    const metadataPath = this.getResourcePath(bucket, key, 'metadata.json');
    let fd;
    let metadata;
    try {
      // One turn: the metadata, the MD5 and the body's descriptor all of one version.
      const md5 = fs.readFileSync(`${objectPath}.md5`, 'utf8');
      let stored = {};
      try {
        stored = JSON.parse(fs.readFileSync(metadataPath, 'utf8'));
      } catch (err) {
        if (err.code !== 'ENOENT') throw err;
      }
      fd = fs.openSync(objectPath, 'r');
      const stat = fs.fstatSync(fd);
      metadata = {
        ...stored,
        etag: JSON.stringify(md5),
        'last-modified': stat.mtime.toUTCString(),
        'content-length': stat.size,
      };
    } catch (err) {
      if (fd !== undefined) fs.closeSync(fd);
      // No MD5 (an object not written through s3rver) or no object: s3rver's own way.
      if (err.code === 'ENOENT') return originalGetObject.call(this, bucket, key, options);
      throw err;
    }
    const lastByte = Math.max(0, Number(metadata['content-length']) - 1);
    const range = {
      start: (options && options.start) || 0,
      end: Math.min((options && options.end) || Infinity, lastByte),
    };
    const ranged = options && (options.start !== undefined || options.end);
    if (range.start < 0 || Math.min(range.end, lastByte) < range.start) {
      fs.closeSync(fd);
      const object = new S3Object(bucket, key, null, metadata);
      if (ranged) object.range = range;
      return object;
    }
    const content = fs.createReadStream(null, { fd, start: range.start, end: range.end });
    const object = new S3Object(bucket, key, content, metadata);
    if (ranged) object.range = range;
    return object;
  };
}

/**
 * dynalite opens LevelDB with LevelDB's defaults: an 8 MB block cache and a 4 MB write buffer, sized
 * for small databases. An LA of 600 schools holds about 250 MB in the table after a year, so nearly
 * every read decompresses a block again and every 4 MB written starts a level-0 compaction, and the
 * engine's CPU a request grows with the LA (60 → 240 schools: 0.74 → 1.03 ms a pupil, under a profiler, for the same
 * LA day). A larger cache and write buffer are what one would give a database of that size; they
 * change nothing the service sees (docs/benchmarks.md, "The LA day by LA size, and the local engine sized for the LA").
 */
function levelSizedForAnLa() {
  const fromDynalite = createRequire(require.resolve('dynalite'));
  const level = fromDynalite('level');
  const Base = level.Level;
  if (Base.sizedForAnLa) return;
  class SizedLevel extends Base {
    constructor(location, options) {
      super(location, { cacheSize: 256 * 1024 * 1024, writeBufferSize: 64 * 1024 * 1024, ...options });
    }
  }
  SizedLevel.sizedForAnLa = true;
  level.Level = SizedLevel;
}

/**
 * dynalite 4.0.0 reads the table's description from LevelDB, and decodes its JSON, for every item a
 * request names: a BatchWriteItem of 25 puts reads it 26 times, beside the 25 reads of the items
 * themselves. The description changes only when the table is created, updated or deleted (all through
 * `tableDb.put`/`del`). So the description an item request reads is held (only one whose table is
 * ACTIVE), and forgotten whenever the table store is written; a table request (describe, update,
 * delete: `getTable(name, false, …)`, which may change the object it gets) still reads it afresh.
 * Answered in a later microtask, as a read would be, so the order of the callers' work is unchanged.
 */
function tableDescriptionsHeld() {
  const db = createRequire(require.resolve('dynalite'))('./db');
  if (db.create.tablesHeld) return;
  const create = db.create;
  const held = function (options) {
    const store = create.call(this, options);
    const tables = new Map();
    // Moved by every write of the table store: a read that began before one is not held.
    let generation = 0;
    const read = store.getTable;
    store.getTable = function (name, checkStatus, cb) {
      if (typeof checkStatus !== 'function') return read(name, checkStatus, cb);
      const table = tables.get(name);
      if (table) return queueMicrotask(() => checkStatus(null, table));
      const began = generation;
      read(name, (err, got) => {
        if (!err && got.TableStatus === 'ACTIVE' && began === generation) tables.set(name, got);
        checkStatus(err, got);
      });
    };
    for (const method of ['put', 'del', 'batch']) {
      const write = store.tableDb[method];
      store.tableDb[method] = function (...args) {
        generation++;
        tables.clear();
        return write.apply(this, args);
      };
    }
    return store;
  };
  held.tablesHeld = true;
  db.create = held;
}

/** Apply every work-around once, before dynalite or s3rver is created. */
export function applyEngineFixes() {
  if (applied) return;
  applied = true;
  closeLevelIterators();
  levelSizedForAnLa();
  tableDescriptionsHeld();
  desForContinuationTokens();
  atomicS3rverObjects();
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
