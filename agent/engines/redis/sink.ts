// Where backups are kept. Backups and restores only talk to a sink through this
// interface, so an object store (S3, GCS, …) can be added later without touching them.
//
// The interface is deliberately the shape of an object store, not of a file system:
//   - keys are "/"-separated names ("<backupId>/manifest.json"), never paths;
//   - an object is written whole and appears atomically (a reader sees all of it or
//     none of it) — a PUT in an object store, temp + fsync + rename here;
//   - listing is by prefix with a delimiter ("directories" are common prefixes);
//   - there is no rename, no append and no partial overwrite.
// Every write returns the size and SHA-256 of exactly the bytes stored, computed while
// streaming, so the caller never has to read an object back to learn its checksum.
//
// Errors are the agent contract's typed errors (proto/status.ts): a full disk is
// RESOURCE_EXHAUSTED (transient: free space and retry), an unwritable sink is
// FAILED_PRECONDITION (fix the directory or choose another sink), a missing object is
// NOT_FOUND. Every message names the sink and the object and says what to do.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from '../../../proto/status.ts';
import type { AgentCallError } from '../../../proto/status.ts';
import { abortedError } from '../errors.ts';

/** Size and SHA-256 (lower-case hex) of the bytes of one object. */
export interface ObjectDigest {
  bytes: number;
  sha256: string;
}

export interface SinkListing {
  /** Objects directly under the prefix (their key relative to the prefix). */
  objects: string[];
  /** Common prefixes directly under the prefix, without the trailing "/". */
  prefixes: string[];
}

export interface SinkCallOptions {
  signal?: AbortSignal | undefined;
}

/** A place that stores backups: a local directory now, an object store later. */
export interface BackupSink {
  /** What and where the sink is, for messages ("local directory /backups"). */
  readonly description: string;
  /** Stores the stream under `key`; the object appears only once complete. */
  putStream(key: string, source: AsyncIterable<Uint8Array>, opts?: SinkCallOptions): Promise<ObjectDigest>;
  /** Stores small data under `key`, atomically and durably. */
  putBytes(key: string, data: Uint8Array | string, opts?: SinkCallOptions): Promise<ObjectDigest>;
  /** The object's bytes, or undefined when there is none. For small objects (manifests). */
  getBytes(key: string, opts?: SinkCallOptions): Promise<Buffer | undefined>;
  /** Copies the object into the local file `localPath` (created or replaced). Throws NOT_FOUND. */
  getFile(key: string, localPath: string, opts?: SinkCallOptions): Promise<ObjectDigest>;
  /** Reads the object through and returns its size and SHA-256. Throws NOT_FOUND. */
  digest(key: string, opts?: SinkCallOptions): Promise<ObjectDigest>;
  /** Objects and prefixes directly under `prefix` ("" for the top, else ending in "/"). */
  list(prefix: string, opts?: SinkCallOptions): Promise<SinkListing>;
  /** Deletes one object; no error when it does not exist. */
  delete(key: string, opts?: SinkCallOptions): Promise<void>;
  /** Deletes every object under `prefix` (ending in "/"); no error when there are none. */
  deletePrefix(prefix: string, opts?: SinkCallOptions): Promise<void>;
}

/** The sink of a desired state's `backups[].sink` / `restoreFromBackup.sink`. */
export type SinkRef = { type: 'local'; path: string };

/**
 * The sink a reference names. A relative local path is taken relative to `baseDir`
 * (the agent's state directory), never to the process's working directory.
 */
export function openSink(ref: SinkRef, opts: { baseDir?: string | undefined } = {}): BackupSink {
  if (ref.type === 'local') {
    if (ref.path === '') throw new InvalidArgumentError('sink.path', 'the local sink needs a directory path');
    if (!path.isAbsolute(ref.path) && opts.baseDir === undefined) {
      throw new InvalidArgumentError('sink.path', `"${ref.path}" is relative: an agent takes only absolute sink paths (the leader resolves a relative one against its state directory); use an absolute path or a newer leader`);
    }
    return new LocalDirectorySink(path.resolve(opts.baseDir ?? '/', ref.path));
  }
  const type: unknown = (ref as { type: unknown }).type;
  throw new InvalidArgumentError('sink.type', `unknown sink type ${JSON.stringify(type)}; this agent knows "local"`);
}

// ---------------------------------------------------------------------------------
// Keys

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;

/**
 * Checks a key: "/"-separated segments of letters, digits, "_", "-" and ".", none
 * empty, none starting with "." (so "..", "." and the sink's own temporary files are
 * impossible). Throws INVALID_ARGUMENT naming the key.
 */
export function checkKey(key: string, what = 'key'): string[] {
  const segments = key.split('/');
  for (const s of segments) {
    if (!SEGMENT.test(s)) {
      const why =
        s === '..' || s === '.'
          ? `"${s}" would leave the sink (path traversal)`
          : s === ''
            ? 'it has an empty segment (a leading, trailing or double "/")'
            : `segment "${s}" may only hold letters, digits, "_", "-" and "." and must not start with "."`;
      throw new InvalidArgumentError(what, `${JSON.stringify(key)} is not a valid sink key: ${why}`);
    }
  }
  return segments;
}

function checkPrefix(prefix: string): string[] {
  if (prefix === '') return [];
  if (!prefix.endsWith('/')) throw new InvalidArgumentError('prefix', `${JSON.stringify(prefix)} must end in "/"`);
  return checkKey(prefix.slice(0, -1), 'prefix');
}

// ---------------------------------------------------------------------------------
// Errors

function errnoOf(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** The typed error for a failed I/O call on a sink; exported for the tests. */
export function sinkIoError(err: unknown, doing: string, sink: string, signal?: AbortSignal): AgentCallError {
  if (signal?.aborted) return abortedError(signal, `${doing} in ${sink} was stopped; partial data was removed`);
  const code = errnoOf(err) ?? '';
  const detail = err instanceof Error ? err.message : String(err);
  const opts = { reason: '', cause: err, details: { errno: code } };
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new ResourceExhaustedError(
        `${doing} in ${sink} failed: no space left (${code}); the partial file was removed. Free space on that file system, or choose another sink, and retry`,
        { ...opts, reason: 'SINK_FULL' },
      );
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'ENOTDIR':
    case 'EEXIST':
    case 'EISDIR':
      return new FailedPreconditionError(
        `${doing} in ${sink} failed: the sink is not writable (${code}: ${detail}). Make it a writable directory, or choose another sink`,
        { ...opts, reason: 'SINK_UNWRITABLE' },
      );
    case 'ENOENT':
      return new NotFoundError(`${doing} in ${sink} failed: it does not exist (${detail})`, { ...opts, reason: 'SINK_NOT_FOUND' });
    default:
      return new UnavailableError(`${doing} in ${sink} failed: ${detail}. Check the sink's storage and retry`, {
        ...opts,
        reason: 'SINK_IO',
      });
  }
}

// ---------------------------------------------------------------------------------
// A local directory

/** A Transform that hashes and counts what passes through. */
function digestingTap(): { tap: Transform; result: () => ObjectDigest } {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return { tap, result: () => ({ bytes, sha256: hash.digest('hex') }) };
}

/**
 * A directory on this machine. An object is a file; a prefix is a directory. Writes go
 * to a hidden temporary file in the target directory, are fsynced, renamed over the
 * target and the directory fsynced, so an object is either complete or absent, also
 * after a power loss. Temporary files start with "." and are never listed.
 */
export class LocalDirectorySink implements BackupSink {
  readonly root: string;
  readonly description: string;

  constructor(root: string) {
    if (!path.isAbsolute(root)) throw new InvalidArgumentError('sink.path', `"${root}" is not an absolute path`);
    this.root = path.normalize(root);
    this.description = `local directory ${this.root}`;
  }

  #path(key: string): string {
    return path.join(this.root, ...checkKey(key));
  }

  async #writeAtomic(key: string, doing: string, signal: AbortSignal | undefined, write: (handle: FileHandle) => Promise<ObjectDigest>): Promise<ObjectDigest> {
    const file = this.#path(key);
    const dir = path.dirname(file);
    const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.partial`);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const handle = await open(temp, 'wx', 0o600);
      let digest: ObjectDigest;
      try {
        digest = await write(handle);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
      await syncDir(dir);
      return digest;
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw sinkIoError(err, `${doing} "${key}"`, this.description, signal);
    }
  }

  putStream(key: string, source: AsyncIterable<Uint8Array>, opts: SinkCallOptions = {}): Promise<ObjectDigest> {
    // Plain writes on the handle, no fs streams: a stream made from a FileHandle holds a
    // reference that keeps handle.close() waiting when the stream does not close it.
    return this.#writeAtomic(key, 'writing', opts.signal, async (handle) => {
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of source) {
        if (opts.signal?.aborted) throw new Error('aborted');
        hash.update(chunk);
        for (let off = 0; off < chunk.byteLength; ) {
          const { bytesWritten } = await handle.write(chunk, off, chunk.byteLength - off);
          off += bytesWritten;
        }
        bytes += chunk.byteLength;
      }
      return { bytes, sha256: hash.digest('hex') };
    });
  }

  putBytes(key: string, data: Uint8Array | string, opts: SinkCallOptions = {}): Promise<ObjectDigest> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.#writeAtomic(key, 'writing', opts.signal, async (handle) => {
      await handle.writeFile(buf);
      return { bytes: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
    });
  }

  async getBytes(key: string, opts: SinkCallOptions = {}): Promise<Buffer | undefined> {
    const file = this.#path(key);
    try {
      const handle = await open(file, 'r');
      try {
        return await handle.readFile(opts.signal ? { signal: opts.signal } : {});
      } finally {
        await handle.close();
      }
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw sinkIoError(err, `reading "${key}"`, this.description, opts.signal);
    }
  }

  async getFile(key: string, localPath: string, opts: SinkCallOptions = {}): Promise<ObjectDigest> {
    const file = this.#path(key);
    try {
      const { tap, result } = digestingTap();
      await pipeline(createReadStream(file), tap, createWriteStream(localPath, { mode: 0o600 }), opts.signal ? { signal: opts.signal } : {});
      return result();
    } catch (err) {
      await rm(localPath, { force: true }).catch(() => undefined);
      throw sinkIoError(err, `copying "${key}" to ${localPath}`, this.description, opts.signal);
    }
  }

  async digest(key: string, opts: SinkCallOptions = {}): Promise<ObjectDigest> {
    const file = this.#path(key);
    try {
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of createReadStream(file, opts.signal ? { signal: opts.signal } : {})) {
        const buf = chunk as Buffer; // a stream without an encoding yields Buffers
        hash.update(buf);
        bytes += buf.length;
      }
      return { bytes, sha256: hash.digest('hex') };
    } catch (err) {
      throw sinkIoError(err, `reading "${key}"`, this.description, opts.signal);
    }
  }

  async list(prefix: string, opts: SinkCallOptions = {}): Promise<SinkListing> {
    const dir = path.join(this.root, ...checkPrefix(prefix));
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      const visible = entries.filter((e) => !e.name.startsWith('.') && SEGMENT.test(e.name));
      return {
        objects: visible.filter((e) => e.isFile()).map((e) => e.name).sort(),
        prefixes: visible.filter((e) => e.isDirectory()).map((e) => e.name).sort(),
      };
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return { objects: [], prefixes: [] };
      throw sinkIoError(err, `listing "${prefix}"`, this.description, opts.signal);
    }
  }

  async delete(key: string, opts: SinkCallOptions = {}): Promise<void> {
    const file = this.#path(key);
    try {
      await rm(file, { force: true });
      await syncDir(path.dirname(file)).catch(() => undefined);
    } catch (err) {
      throw sinkIoError(err, `deleting "${key}"`, this.description, opts.signal);
    }
  }

  async deletePrefix(prefix: string, opts: SinkCallOptions = {}): Promise<void> {
    const segments = checkPrefix(prefix);
    if (segments.length === 0) throw new InvalidArgumentError('prefix', 'refusing to delete the whole sink');
    const dir = path.join(this.root, ...segments);
    try {
      const st = await stat(dir).catch((err: unknown) => (errnoOf(err) === 'ENOENT' ? undefined : Promise.reject(err)));
      if (st === undefined) return;
      await rm(dir, { recursive: true, force: true });
      await syncDir(path.dirname(dir)).catch(() => undefined);
    } catch (err) {
      throw sinkIoError(err, `deleting "${prefix}"`, this.description, opts.signal);
    }
  }
}

/** Makes a rename or removal in `dir` durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
