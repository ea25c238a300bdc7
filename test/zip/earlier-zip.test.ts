import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { EarlierZip } from '../../src/private/zip/earlier-zip';
import { tempDir } from '../helpers/run';

describe('EarlierZip: an earlier zip read front to back, summed on the way', () => {
  const bytes = crypto.randomBytes(3 * 1024 * 1024 + 4321);
  const file = path.join(tempDir('earlier-zip'), 'old.zip');
  fs.writeFileSync(file, bytes);

  function copyAll(zip: EarlierZip, ranges: Array<[number, number]>): Buffer[] {
    return ranges.map(([offset, length]) => {
      const pieces: Buffer[] = [];
      expect(zip.copy(offset, length, p => pieces.push(Buffer.from(p)))).toBe(true);
      return Buffer.concat(pieces);
    });
  }

  test('ranges asked for in order come back as they are, across blocks; the sum covers the whole file, the gaps and the tail too', () => {
    const ranges: Array<[number, number]> = [[10, 100], [200, 1024 * 1024 + 7], [2 * 1024 * 1024 - 3, 6], [3 * 1024 * 1024, 100]];
    const zip = new EarlierZip(file);
    const got = copyAll(zip, ranges);
    ranges.forEach(([offset, length], i) => expect(got[i].equals(bytes.subarray(offset, offset + length))).toBe(true));
    expect(zip.finish()).toBe(zlib.crc32(bytes));
  });

  test('a range behind the last one still comes back right, but no sum is claimed', () => {
    const zip = new EarlierZip(file);
    const [late, early, after] = copyAll(zip, [[2 * 1024 * 1024, 50], [1000, 2000], [2 * 1024 * 1024 + 100, 10]]);
    expect(late.equals(bytes.subarray(2 * 1024 * 1024, 2 * 1024 * 1024 + 50))).toBe(true);
    expect(early.equals(bytes.subarray(1000, 3000))).toBe(true);
    expect(after.equals(bytes.subarray(2 * 1024 * 1024 + 100, 2 * 1024 * 1024 + 110))).toBe(true);
    expect(zip.finish()).toBeUndefined();
  });

  test('a range past the end of the file is refused', () => {
    const zip = new EarlierZip(file);
    expect(zip.copy(bytes.length - 10, 20, () => undefined)).toBe(false);
    zip.close();
  });
});
