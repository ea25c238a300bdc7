import * as fs from 'fs';
import * as zlib from 'zlib';

/** How much of the earlier zip is read at a time. */
const BLOCK_BYTES = 1024 * 1024;

/**
 * An earlier zip that a new one copies compressed entries from (a handler edit copies the
 * dependencies' entries), read front to back in large blocks, as the entries are copied in
 * the order the zip holds them. Every byte read, and at the end the rest of the file, goes
 * into a CRC-32 of the whole file: the caller compares it with the one recorded when the zip
 * was written, so the bytes copied are checked in the same pass that reads them (a separate
 * sha256 pass over a 54 MB zip cost as much as the rest of an edit's own work). CRC-32 is
 * there to catch accidental change (a tool writing into the file, a power cut), not tampering:
 * whoever can write to the build cache can also rewrite what it records.
 */
export class EarlierZip {
  private readonly fd: number;
  private readonly block = Buffer.allocUnsafe(BLOCK_BYTES);
  private blockStart = 0;
  private blockLength = 0;
  private crc = 0;
  /** False once bytes were asked for behind the current block: the sum can then not be taken in one pass. */
  private inOrder = true;
  private closed = false;

  constructor(public readonly file: string) {
    this.fd = fs.openSync(file, 'r');
  }

  /**
   * Hands the bytes [offset, offset + length) of the file to `sink`, in pieces that are valid
   * only during the call. Returns false when the file ends first.
   */
  public copy(offset: number, length: number, sink: (piece: Buffer) => void): boolean {
    const end = offset + length;
    for (let at = offset; at < end;) {
      if (at < this.blockStart) {
        this.inOrder = false;
        const n = fs.readSync(this.fd, this.block, 0, Math.min(BLOCK_BYTES, end - at), at);
        // The block now holds other bytes: the next read in order starts afresh (and sums nothing).
        this.blockStart = Number.MAX_SAFE_INTEGER;
        this.blockLength = 0;
        if (n === 0) return false;
        sink(this.block.subarray(0, n));
        at += n;
        continue;
      }
      while (at >= this.blockStart + this.blockLength) {
        if (!this.readNext()) return false;
      }
      const from = at - this.blockStart;
      const n = Math.min(end - at, this.blockLength - from);
      sink(this.block.subarray(from, from + n));
      at += n;
    }
    return true;
  }

  /** The CRC-32 of the whole file as read, or undefined when it was not read front to back. Closes the file. */
  public finish(): number | undefined {
    try {
      if (!this.inOrder) return undefined;
      while (this.readNext());
      return this.crc >>> 0;
    } finally {
      this.close();
    }
  }

  public close() {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }

  /** Reads the block after the current one into the sum; false at the end of the file. */
  private readNext(): boolean {
    const start = this.blockStart + this.blockLength;
    let n = 0;
    for (let r; n < BLOCK_BYTES && (r = fs.readSync(this.fd, this.block, n, BLOCK_BYTES - n, start + n)) > 0;) n += r;
    this.blockStart = start;
    this.blockLength = n;
    this.crc = zlib.crc32(this.block.subarray(0, n), this.crc);
    return n > 0;
  }
}
