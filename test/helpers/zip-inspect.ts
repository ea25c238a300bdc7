import * as fs from 'fs';

/**
 * An independent reader of zip headers, so tests check the bytes we write field by
 * field rather than through the writer's own code.
 */
export interface InspectedEntry {
  readonly name: string;
  readonly versionMadeBy: number;
  readonly versionNeeded: number;
  readonly flags: number;
  readonly method: number;
  readonly dosTime: number;
  readonly dosDate: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly centralExtraLength: number;
  readonly localExtraLength: number;
  readonly commentLength: number;
  /** Unix mode from the external attributes' high half. */
  readonly mode: number;
  readonly localHeaderOffset: number;
}

export interface InspectedZip {
  readonly entries: InspectedEntry[];
  readonly commentLength: number;
  readonly zip64: boolean;
}

export function inspectZip(file: string): InspectedZip {
  const buf = fs.readFileSync(file);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${file}: no end of central directory record`);
  const commentLength = buf.readUInt16LE(eocd + 20);
  let count = buf.readUInt16LE(eocd + 10);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  let zip64 = false;
  if (eocd >= 20 && buf.readUInt32LE(eocd - 20) === 0x07064b50) {
    zip64 = true;
    const recordOffset = Number(buf.readBigUInt64LE(eocd - 20 + 8));
    if (buf.readUInt32LE(recordOffset) !== 0x06064b50) throw new Error('bad zip64 end record');
    count = Number(buf.readBigUInt64LE(recordOffset + 32));
    cdOffset = Number(buf.readBigUInt64LE(recordOffset + 48));
  }
  const entries: InspectedEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central header at ${p}`);
    const nameLength = buf.readUInt16LE(p + 28);
    const extraLength = buf.readUInt16LE(p + 30);
    const entryCommentLength = buf.readUInt16LE(p + 32);
    const localHeaderOffset = buf.readUInt32LE(p + 42);
    if (buf.readUInt32LE(localHeaderOffset) !== 0x04034b50) throw new Error(`bad local header at ${localHeaderOffset}`);
    entries.push({
      name: buf.subarray(p + 46, p + 46 + nameLength).toString('utf8'),
      versionMadeBy: buf.readUInt16LE(p + 4),
      versionNeeded: buf.readUInt16LE(p + 6),
      flags: buf.readUInt16LE(p + 8),
      method: buf.readUInt16LE(p + 10),
      dosTime: buf.readUInt16LE(p + 12),
      dosDate: buf.readUInt16LE(p + 14),
      crc: buf.readUInt32LE(p + 16),
      compressedSize: buf.readUInt32LE(p + 20),
      size: buf.readUInt32LE(p + 24),
      centralExtraLength: extraLength,
      localExtraLength: buf.readUInt16LE(localHeaderOffset + 28),
      commentLength: entryCommentLength,
      mode: (buf.readUInt32LE(p + 38) >>> 16) & 0o7777,
      localHeaderOffset,
    });
    p += 46 + nameLength + extraLength + entryCommentLength;
  }
  return { entries, commentLength, zip64 };
}
