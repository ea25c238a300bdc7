import * as crypto from 'crypto';
import * as fs from 'fs';

/**
 * Writes a file through a temporary sibling and a rename, so a reader sees the old content
 * or the new one, never half; on failure (a full disk, say) the temporary file is removed
 * and the old content stays.
 *
 * Only a regular file is replaced that way. A symbolic link stays a link: the file it
 * points to is written (atomically, beside itself). Anything else at the path (a device
 * such as /dev/null or /dev/stdout, a FIFO, a dangling link) is written to as it is,
 * because a rename would put a regular file in its place.
 */
export function writeFileAtomic(file: string, data: string | Buffer) {
  const kind = kindAt(file);
  if (kind === 'other') {
    fs.writeFileSync(file, data);
    return;
  }
  const target = kind === 'link' ? fs.realpathSync(file) : file;
  const tmp = `${target}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

function kindAt(file: string): 'none' | 'file' | 'link' | 'other' {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e: any) {
    if (e?.code !== 'ENOENT') throw e;
    // Nothing there, or a link to nothing (written through, which creates what it names).
    return isLink(file) ? 'other' : 'none';
  }
  if (!stat.isFile()) return 'other';
  return isLink(file) ? 'link' : 'file';
}

function isLink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
