import * as fs from 'fs';
import * as zlib from 'zlib';
import { EarlierZip } from './earlier-zip';
import { dosDateTime } from './entry-time';
import {
  FLAG_UTF8, MADE_BY, METHOD_DEFLATE, METHOD_STORE, SIG_CENTRAL, SIG_EOCD, SIG_LOCAL, SIG_ZIP64_EOCD, SIG_ZIP64_LOCATOR, UNIX_HOST, VERSION_DEFAULT,
} from './zip-format';

/**
 * A minimal, deterministic zip writer over node:zlib.
 *
 * Every byte is chosen here rather than by a library default: no extra fields, no
 * data descriptors, no archive comment, UTF-8 names, Unix modes 0644/0755, one
 * timestamp. Deflate runs in libuv's thread pool for several files at once (bounded
 * by count and bytes in flight), and for several pieces of one large file at once,
 * while entries are written strictly in order.
 *
 * The same steps also run synchronously, on the calling thread, with every piece deflated
 * in turn (runStepsSync): the bytes are the same. That is for a zip with little to compress
 * (a handler edit copies the rest from an earlier zip), where starting a thread to wait on
 * would cost more than the work.
 */

export interface ZipInput {
  /** Path inside the zip, `/`-separated. */
  readonly zipPath: string;
  /** Absolute path of the bytes. */
  readonly sourcePath: string;
  readonly size: number;
  readonly executable: boolean;
  /** Store without compression whatever the level (e.g. an inner zip). */
  readonly store?: boolean;
  /**
   * The entry's compressed bytes as an earlier zip of the same file holds them (same level,
   * same zlib): copied as they are instead of compressed again, which gives the same bytes.
   */
  readonly raw?: RawSource;
}

/** Compressed bytes to copy from another file. */
export interface RawSource {
  readonly file: string;
  readonly dataOffset: number;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
}

export interface ZipWriteOptions {
  /** Seconds since the Unix epoch for every entry. */
  readonly entryTime: number;
  /** zlib level 0..9; 0 stores everything. */
  readonly level: number;
  /** Called after each entry is written, for progress reporting. */
  readonly onEntry?: (written: number, total: number) => void;
}

export interface ZipWriteResult {
  readonly entries: number;
  readonly zippedBytes: number;
  /**
   * For each file that raw entries were copied from, the CRC-32 of all its bytes as read
   * (see EarlierZip); a file not read front to back is absent.
   */
  readonly rawSourceCrc32s: Record<string, number>;
}

const VERSION_ZIP64 = 45;
const MAX_U32 = 0xffffffff;
const MAX_U16 = 0xffff;

/** Files above this size are read and deflated in pieces (deflateInChunks) instead of in one buffer. */
const STREAM_THRESHOLD = 2 * 1024 * 1024;
/** Files up to this size are compressed on the main thread (see prepareInMemory). */
const INLINE_THRESHOLD = 64 * 1024;
/** Bound on raw bytes read ahead for parallel compression. */
const MAX_BYTES_IN_FLIGHT = 16 * 1024 * 1024;
const MAX_FILES_IN_FLIGHT = 16;
const WRITE_BUFFER_BYTES = 1024 * 1024;
/** A large file is deflated in pieces of this size (see deflateInChunks). */
const CHUNK_BYTES = 256 * 1024;
const CHUNKS_IN_FLIGHT = 4;
/** Deflate's window: how far back a match can reach. */
const DICTIONARY_BYTES = 32 * 1024;

/**
 * The name of the way entries are deflated, for caches that copy compressed entries from
 * earlier zips: zips deflated another way hold other (equally valid) bytes.
 */
export const DEFLATE_SCHEME = `chunks-${CHUNK_BYTES}`;

interface CentralRecord {
  readonly name: Buffer;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly mode: number;
  readonly offset: number;
}

interface PreparedEntry {
  readonly method: number;
  readonly crc: number;
  readonly data: Buffer;
  readonly size: number;
}

/**
 * The steps of an operation that waits on the thread pool: each yields a promise and is
 * resumed with its value (or its error thrown in). Run synchronously, a step never waits:
 * it yields nothing asynchronous.
 */
export type Steps<T> = Generator<unknown, T, any>;

/** Runs the steps, awaiting what they wait on. */
export async function runSteps<T>(steps: Steps<T>): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    let value: unknown;
    try {
      value = await next.value;
    } catch (e) {
      next = steps.throw(e);
      continue;
    }
    next = steps.next(value);
  }
  return next.value;
}

/** Runs steps made to be synchronous, to their end, on this thread. */
export function runStepsSync<T>(steps: Steps<T>): T {
  let next = steps.next();
  while (!next.done) {
    if (next.value instanceof Promise) throw new Error('The zip engine waited on the thread pool while zipping synchronously.');
    next = steps.next(next.value);
  }
  return next.value;
}

/**
 * Writes `inputs`, in the order given, as a zip to the open file descriptor `fd`
 * (positioned at 0, empty), run by runSteps, or by runStepsSync with `sync` (nothing is then
 * handed to the thread pool). The caller owns the file: it creates, flushes and renames it.
 */
export function* writeZipSteps(fd: number, inputs: readonly ZipInput[], options: ZipWriteOptions, sync: boolean): Steps<ZipWriteResult> {
  const earlier = new Map<string, EarlierZip>();
  try {
    const written = yield* writeEntries(fd, inputs, options, sync, earlier);
    const rawSourceCrc32s: Record<string, number> = {};
    for (const [file, zip] of earlier) {
      const crc = zip.finish();
      if (crc !== undefined) rawSourceCrc32s[file] = crc;
    }
    return { ...written, rawSourceCrc32s };
  } finally {
    for (const zip of earlier.values()) zip.close();
  }
}

function* writeEntries(fd: number, inputs: readonly ZipInput[], options: ZipWriteOptions, sync: boolean,
  earlier: Map<string, EarlierZip>): Steps<Omit<ZipWriteResult, 'rawSourceCrc32s'>> {
  const { time, date } = dosDateTime(options.entryTime);
  const writer = new PositionalWriter(fd);
  const central: CentralRecord[] = [];

  // Read-ahead window: prepare (read + deflate) small entries concurrently, write in order.
  const pending: Array<PreparedEntry | Promise<PreparedEntry> | undefined> = new Array(inputs.length);
  let next = 0;
  let bytesInFlight = 0;
  const fill = (current: number) => {
    while (next < inputs.length
      && next - current < MAX_FILES_IN_FLIGHT
      && (bytesInFlight === 0 || bytesInFlight + inputs[next].size <= MAX_BYTES_IN_FLIGHT)) {
      const input = inputs[next];
      if (input.size <= STREAM_THRESHOLD && !input.raw) {
        bytesInFlight += input.size;
        const task = prepareInMemory(input, options.level, sync);
        // Awaited in order below; this only keeps an early failure from counting as unhandled.
        if (task instanceof Promise) task.catch(() => undefined);
        pending[next] = task;
      }
      next++;
    }
  };

  for (let i = 0; i < inputs.length; i++) {
    fill(i);
    const input = inputs[i];
    const name = Buffer.from(input.zipPath, 'utf8');
    if (name.length > MAX_U16) {
      throw new Error(`Zip path ${input.zipPath.slice(0, 80)}... is longer than a zip entry name can be (65535 bytes).`);
    }
    const mode = input.executable ? 0o755 : 0o644;
    const offset = writer.position;
    const task = pending[i];
    let record: CentralRecord;
    if (task) {
      const prepared: PreparedEntry = task instanceof Promise ? yield task : task;
      pending[i] = undefined;
      bytesInFlight -= input.size;
      checkSize(input, prepared.size);
      writer.append(localHeader(name, prepared.method, time, date, prepared.crc, prepared.data.length, prepared.size));
      writer.append(prepared.data);
      record = { name, method: prepared.method, crc: prepared.crc, compressedSize: prepared.data.length, size: prepared.size, mode, offset };
    } else if (input.raw) {
      let from = earlier.get(input.raw.file);
      if (!from) earlier.set(input.raw.file, from = new EarlierZip(input.raw.file));
      record = copyRaw(writer, from, input, input.raw, name, time, date, mode, offset);
    } else {
      record = yield* writeStreamed(writer, input, name, options.level, sync, time, date, mode, offset);
    }
    if (writer.position > MAX_U32) {
      throw new Error(`The zip grew past 4 GiB while adding ${input.zipPath}; that is far beyond what Lambda can deploy.`);
    }
    central.push(record);
    options.onEntry?.(i + 1, inputs.length);
  }

  const cdOffset = writer.position;
  for (const r of central) {
    writer.append(centralHeader(r, time, date));
  }
  const cdSize = writer.position - cdOffset;
  if (central.length > MAX_U16) {
    writer.append(zip64End(central.length, cdSize, cdOffset, writer.position));
  }
  writer.append(endOfCentralDirectory(central.length, cdSize, cdOffset));
  writer.flush();
  return { entries: central.length, zippedBytes: writer.position };
}

function checkSize(input: ZipInput, actual: number) {
  if (actual !== input.size) {
    throw new Error(`${input.sourcePath} changed size while it was being zipped (${input.size} -> ${actual} bytes); run the build again when nothing writes to the tree.`);
  }
}

/**
 * Reads and compresses one entry that fits in memory. Small files are done inline: for
 * them a round trip through the thread pool costs more than the work. Larger ones are
 * deflated in the pool so that several compress at once on several cores (unless `sync`).
 */
function prepareInMemory(input: ZipInput, level: number, sync: boolean): PreparedEntry | Promise<PreparedEntry> {
  if (input.store || level === 0) {
    const raw = fs.readFileSync(input.sourcePath);
    return { method: METHOD_STORE, crc: zlib.crc32(raw), data: raw, size: raw.length };
  }
  const raw = input.size <= INLINE_THRESHOLD ? readSmall(input) : fs.readFileSync(input.sourcePath);
  const crc = zlib.crc32(raw);
  // Incompressible data (wheels' .so files, images) is stored as-is: smaller and faster to read.
  // A small file's bytes live in the shared read buffer, so a stored one is copied out.
  const stored = (): PreparedEntry =>
    ({ method: METHOD_STORE, crc, data: raw.buffer === smallBuffer.buffer ? Buffer.from(raw) : raw, size: raw.length });
  const choose = (deflated: Buffer): PreparedEntry =>
    deflated.length >= raw.length ? stored() : { method: METHOD_DEFLATE, crc, data: deflated, size: raw.length };
  if (raw.length === 0) return stored();
  if (raw.length <= INLINE_THRESHOLD || sync) {
    return choose(zlib.deflateRawSync(raw, { level }));
  }
  return new Promise<PreparedEntry>((resolve, reject) =>
    zlib.deflateRaw(raw, { level }, (err, out) => err ? reject(err) : resolve(choose(out))));
}

/**
 * A small file's bytes, read into one buffer reused for every small file (its contents
 * are deflated before the next is read, and a stored small file is copied). The file must
 * still have the size it was listed with (checked by the caller): a file that grew past
 * the buffer is read whole so the check sees its real size.
 */
const smallBuffer = Buffer.allocUnsafe(INLINE_THRESHOLD + 1);
/** The read buffer of stored large entries (one at a time: entries are written in order). */
const streamBuffer = Buffer.allocUnsafe(256 * 1024);
function readSmall(input: ZipInput): Buffer {
  const fd = fs.openSync(input.sourcePath, 'r');
  try {
    let n = 0;
    for (let r; n < smallBuffer.length && (r = fs.readSync(fd, smallBuffer, n, smallBuffer.length - n, null)) > 0;) n += r;
    return n <= INLINE_THRESHOLD ? smallBuffer.subarray(0, n) : fs.readFileSync(input.sourcePath);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes one entry whose compressed bytes come from an earlier zip. */
function copyRaw(writer: PositionalWriter, from: EarlierZip, input: ZipInput, raw: RawSource, name: Buffer, time: number, date: number,
  mode: number, offset: number): CentralRecord {
  writer.append(localHeader(name, raw.method, time, date, raw.crc, raw.compressedSize, input.size));
  if (!from.copy(raw.dataOffset, raw.compressedSize, piece => writer.append(piece))) {
    throw new Error(`${raw.file} ended before the compressed bytes of ${input.zipPath}; it changed while this zip was written.`);
  }
  return { name, method: raw.method, crc: raw.crc, compressedSize: raw.compressedSize, size: input.size, mode, offset };
}

/** Writes one large entry: header placeholder, its data in chunks, then the header patched in place. */
function* writeStreamed(
  writer: PositionalWriter, input: ZipInput, name: Buffer, level: number, sync: boolean,
  time: number, date: number, mode: number, offset: number): Steps<CentralRecord> {
  const method = input.store || level === 0 ? METHOD_STORE : METHOD_DEFLATE;
  writer.append(localHeader(name, method, time, date, 0, 0, 0));
  const dataStart = writer.position;
  const fd = fs.openSync(input.sourcePath, 'r');
  let sums: { crc: number; size: number };
  try {
    sums = method === METHOD_STORE ? copyStored(fd, writer) : yield* deflateInChunks(fd, writer, level, sync);
  } finally {
    fs.closeSync(fd);
  }
  const { crc, size } = sums;
  checkSize(input, size);
  const compressedSize = writer.position - dataStart;
  writer.patch(localHeader(name, method, time, date, crc, compressedSize, size), offset);
  return { name, method, crc, compressedSize, size, mode, offset };
}

/** Copies a file into the zip as it is, through the one streaming buffer. */
function copyStored(fd: number, writer: PositionalWriter): { crc: number; size: number } {
  let crc = 0;
  let size = 0;
  for (let n; (n = fs.readSync(fd, streamBuffer, 0, streamBuffer.length, null)) > 0;) {
    const chunk = streamBuffer.subarray(0, n);
    crc = zlib.crc32(chunk, crc);
    size += n;
    writer.append(chunk);
  }
  return { crc, size };
}

/**
 * A large file is deflated in fixed chunks, several at once in libuv's thread pool, as pigz
 * does: each chunk starts with the previous chunk's last 32 KiB as its dictionary (so matches
 * still reach back across the cut) and ends with a sync flush (byte-aligned, not final); the
 * last chunk finishes the stream. The pieces join into one ordinary deflate stream, as small
 * as a single pass (within 0.1% on real shared libraries), and a 25 MB library no longer holds
 * one core busy while the other waits. The cuts are at fixed offsets, so the bytes are the
 * same on every machine (and whether the chunks are deflated at once or, with `sync`, in
 * turn); DEFLATE_SCHEME names this layout for the caches.
 */
function* deflateInChunks(fd: number, writer: PositionalWriter, level: number, sync: boolean): Steps<{ crc: number; size: number }> {
  let crc = 0;
  let size = 0;
  const free: Buffer[] = [];
  const inFlight: Array<{ input: Buffer; output: Buffer | Promise<Buffer> }> = [];
  function* writeOldest(): Steps<void> {
    const oldest = inFlight.shift()!;
    writer.append(oldest.output instanceof Promise ? yield oldest.output : oldest.output);
    free.push(oldest.input);
  }
  const read = (): Buffer => {
    const buffer = free.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
    let n = 0;
    for (let r; n < CHUNK_BYTES && (r = fs.readSync(fd, buffer, n, CHUNK_BYTES - n, null)) > 0;) n += r;
    return buffer.subarray(0, n);
  };
  let previous: Buffer | undefined;
  let current = read();
  try {
    for (;;) {
      // A full chunk may be followed by more: read ahead to know whether this one is the last.
      const following = current.length === CHUNK_BYTES ? read() : Buffer.alloc(0);
      const last = following.length === 0;
      crc = zlib.crc32(current, crc);
      size += current.length;
      const options: zlib.ZlibOptions = { level, finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH };
      // zlib copies the dictionary when the stream is set up, before deflateRaw returns.
      if (previous) options.dictionary = previous.subarray(previous.length - DICTIONARY_BYTES);
      const input = current;
      let output: Buffer | Promise<Buffer>;
      if (sync) {
        output = zlib.deflateRawSync(input, options);
      } else {
        output = new Promise<Buffer>((resolve, reject) => zlib.deflateRaw(input, options, (err, out) => err ? reject(err) : resolve(out)));
        output.catch(() => undefined); // awaited in order; a failure is reported there
      }
      inFlight.push({ input: Buffer.from(input.buffer, input.byteOffset, CHUNK_BYTES), output });
      if (last) break;
      previous = current;
      current = following;
      if (inFlight.length >= CHUNKS_IN_FLIGHT) yield* writeOldest();
    }
    while (inFlight.length > 0) yield* writeOldest();
  } finally {
    // On a failure the remaining chunks are still being deflated; they are not written.
    const pending = inFlight.map(c => c.output).filter(o => o instanceof Promise);
    if (pending.length > 0) yield Promise.allSettled(pending);
  }
  return { crc, size };
}

function localHeader(name: Buffer, method: number, time: number, date: number, crc: number, compressedSize: number, size: number): Buffer {
  const b = Buffer.alloc(30 + name.length);
  b.writeUInt32LE(SIG_LOCAL, 0);
  b.writeUInt16LE(VERSION_DEFAULT, 4);
  b.writeUInt16LE(FLAG_UTF8, 6);
  b.writeUInt16LE(method, 8);
  b.writeUInt16LE(time, 10);
  b.writeUInt16LE(date, 12);
  b.writeUInt32LE(crc >>> 0, 14);
  b.writeUInt32LE(compressedSize, 18);
  b.writeUInt32LE(size, 22);
  b.writeUInt16LE(name.length, 26);
  b.writeUInt16LE(0, 28); // no extra field
  name.copy(b, 30);
  return b;
}

function centralHeader(r: CentralRecord, time: number, date: number): Buffer {
  const b = Buffer.alloc(46 + r.name.length);
  b.writeUInt32LE(SIG_CENTRAL, 0);
  b.writeUInt16LE(MADE_BY, 4);
  b.writeUInt16LE(VERSION_DEFAULT, 6);
  b.writeUInt16LE(FLAG_UTF8, 8);
  b.writeUInt16LE(r.method, 10);
  b.writeUInt16LE(time, 12);
  b.writeUInt16LE(date, 14);
  b.writeUInt32LE(r.crc >>> 0, 16);
  b.writeUInt32LE(r.compressedSize, 20);
  b.writeUInt32LE(r.size, 24);
  b.writeUInt16LE(r.name.length, 28);
  b.writeUInt16LE(0, 30); // extra field length
  b.writeUInt16LE(0, 32); // comment length
  b.writeUInt16LE(0, 34); // disk number
  b.writeUInt16LE(0, 36); // internal attributes
  b.writeUInt32LE(((0o100000 | r.mode) << 16) >>> 0, 38); // S_IFREG | mode, in the high half
  b.writeUInt32LE(r.offset, 42);
  r.name.copy(b, 46);
  return b;
}

function zip64End(entries: number, cdSize: number, cdOffset: number, recordOffset: number): Buffer {
  const b = Buffer.alloc(56 + 20);
  b.writeUInt32LE(SIG_ZIP64_EOCD, 0);
  b.writeBigUInt64LE(44n, 4); // size of the rest of this record
  b.writeUInt16LE((UNIX_HOST << 8) | VERSION_ZIP64, 12);
  b.writeUInt16LE(VERSION_ZIP64, 14);
  b.writeUInt32LE(0, 16);
  b.writeUInt32LE(0, 20);
  b.writeBigUInt64LE(BigInt(entries), 24);
  b.writeBigUInt64LE(BigInt(entries), 32);
  b.writeBigUInt64LE(BigInt(cdSize), 40);
  b.writeBigUInt64LE(BigInt(cdOffset), 48);
  b.writeUInt32LE(SIG_ZIP64_LOCATOR, 56);
  b.writeUInt32LE(0, 60);
  b.writeBigUInt64LE(BigInt(recordOffset), 64);
  b.writeUInt32LE(1, 72);
  return b;
}

function endOfCentralDirectory(entries: number, cdSize: number, cdOffset: number): Buffer {
  const b = Buffer.alloc(22);
  const count = Math.min(entries, MAX_U16);
  b.writeUInt32LE(SIG_EOCD, 0);
  b.writeUInt16LE(0, 4);
  b.writeUInt16LE(0, 6);
  b.writeUInt16LE(count, 8);
  b.writeUInt16LE(count, 10);
  b.writeUInt32LE(cdSize, 12);
  b.writeUInt32LE(cdOffset, 16);
  b.writeUInt16LE(0, 20); // no comment
  return b;
}

/**
 * Appends to a file descriptor through a write buffer (a zip of many small files would
 * otherwise cost two system calls per file), and patches earlier bytes in place.
 * Writes are synchronous: compression runs in the thread pool meanwhile.
 */
class PositionalWriter {
  /** Logical end of the zip, including bytes not yet flushed. */
  public position = 0;
  private flushedTo = 0;
  /** One buffer for the whole zip: small pieces are copied in, large ones written directly. */
  private readonly buffer = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  private bufferedBytes = 0;

  constructor(private readonly fd: number) {}

  public append(data: Buffer) {
    if (this.bufferedBytes + data.length > WRITE_BUFFER_BYTES) this.flush();
    if (data.length >= WRITE_BUFFER_BYTES) {
      writeFully(this.fd, data, this.flushedTo);
      this.flushedTo += data.length;
    } else {
      data.copy(this.buffer, this.bufferedBytes);
      this.bufferedBytes += data.length;
    }
    this.position += data.length;
  }

  /** Overwrites bytes at `at`, which must already have been appended. */
  public patch(data: Buffer, at: number) {
    this.flush();
    writeFully(this.fd, data, at);
  }

  public flush() {
    if (this.bufferedBytes === 0) return;
    writeFully(this.fd, this.buffer.subarray(0, this.bufferedBytes), this.flushedTo);
    this.flushedTo += this.bufferedBytes;
    this.bufferedBytes = 0;
  }
}

function writeFully(fd: number, data: Buffer, at: number) {
  let done = 0;
  while (done < data.length) {
    done += fs.writeSync(fd, data, done, data.length - done, at + done);
  }
}
