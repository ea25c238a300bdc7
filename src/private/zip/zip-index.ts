import * as fs from 'fs';
import { MADE_BY, METHOD_STORE, SIG_CENTRAL, SIG_EOCD, SIG_ZIP64_EOCD, SIG_ZIP64_LOCATOR } from './zip-format';

/**
 * The entries of a zip this engine wrote, located by name, so that a later zip of the same
 * dependency tree can copy their compressed bytes instead of compressing them again. Only
 * zips in the engine's own shape are read (no extra fields, no comment, Unix host): anything
 * else gives undefined and the caller compresses as usual.
 */

/** Where one entry's compressed bytes lie in a file, and what they decode to. */
export interface RawEntry {
  /** Offset of the compressed data in the file. */
  readonly dataOffset: number;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
}


/**
 * The entries of the zip at `file` (or of the zip stored as the entry `inner` inside it, for a
 * nested bundle), by name; undefined when the file is missing or not in the engine's shape.
 */
export function readZipIndex(file: string, inner?: string): Map<string, RawEntry> | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const outer = readCentral(fd, 0, fs.fstatSync(fd).size);
    if (!outer || inner === undefined) return outer;
    const entry = outer.get(inner);
    // The inner zip is stored, so its bytes lie in the file as they are.
    if (!entry || entry.method !== METHOD_STORE) return undefined;
    return readCentral(fd, entry.dataOffset, entry.size);
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

function readAt(fd: number, at: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  let n = 0;
  while (n < length) {
    const r = fs.readSync(fd, b, n, length - n, at + n);
    if (r === 0) throw new Error('short read');
    n += r;
  }
  return b;
}

/** The central directory of the zip occupying [base, base + length) of the file. */
function readCentral(fd: number, base: number, length: number): Map<string, RawEntry> | undefined {
  if (length < 22) return undefined;
  const eocd = readAt(fd, base + length - 22, 22);
  // The engine writes no archive comment, so the end record is the last 22 bytes.
  if (eocd.readUInt32LE(0) !== SIG_EOCD || eocd.readUInt16LE(20) !== 0) return undefined;
  let entries = eocd.readUInt16LE(10);
  let cdSize = eocd.readUInt32LE(12);
  let cdOffset = eocd.readUInt32LE(16);
  if (entries === 0xffff && length >= 22 + 20 + 56) {
    const locator = readAt(fd, base + length - 22 - 20, 20);
    if (locator.readUInt32LE(0) !== SIG_ZIP64_LOCATOR) return undefined;
    const record = readAt(fd, base + Number(locator.readBigUInt64LE(8)), 56);
    if (record.readUInt32LE(0) !== SIG_ZIP64_EOCD) return undefined;
    entries = Number(record.readBigUInt64LE(32));
    cdSize = Number(record.readBigUInt64LE(40));
    cdOffset = Number(record.readBigUInt64LE(48));
  }
  if (cdOffset + cdSize > length) return undefined;
  const cd = readAt(fd, base + cdOffset, cdSize);
  const out = new Map<string, RawEntry>();
  let p = 0;
  for (let i = 0; i < entries; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL || cd.readUInt16LE(p + 4) !== MADE_BY) return undefined;
    const nameLength = cd.readUInt16LE(p + 28);
    if (cd.readUInt16LE(p + 30) !== 0 || cd.readUInt16LE(p + 32) !== 0) return undefined; // extra field or comment: not ours
    const name = cd.toString('utf8', p + 46, p + 46 + nameLength);
    const localOffset = cd.readUInt32LE(p + 42);
    const compressedSize = cd.readUInt32LE(p + 20);
    // Local headers are written with the same name and no extra field: the data follows at once.
    const dataOffset = base + localOffset + 30 + nameLength;
    if (localOffset + 30 + nameLength + compressedSize > cdOffset) return undefined;
    out.set(name, { dataOffset, method: cd.readUInt16LE(p + 10), crc: cd.readUInt32LE(p + 16), compressedSize, size: cd.readUInt32LE(p + 24) });
    p += 46 + nameLength;
  }
  return out;
}
