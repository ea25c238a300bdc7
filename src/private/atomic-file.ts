import * as crypto from 'crypto';
import * as fs from 'fs';

/**
 * Writes a file through a temporary sibling and a rename, so a reader sees the old content
 * or the new one, never half; on failure (a full disk, say) the temporary file is removed
 * and the old content stays.
 */
export function writeFileAtomic(file: string, data: string | Buffer) {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
