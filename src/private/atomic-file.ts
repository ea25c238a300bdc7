import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

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
    const { fd, opened } = openForWriting(file);
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      writeAll(fd, bytes, bytes.length);
    } finally {
      if (opened) fs.closeSync(fd);
    }
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

/**
 * Where to build a file the user named, for a writer that renames its result into place
 * (the zip engine): the path itself, the file a link names, or, for anything else (a
 * device such as /dev/stdout, a FIFO, a link to nothing), a temporary file whose bytes
 * `deliver` then writes to the path and removes (`discard` removes it after a failure).
 */
export function outputTarget(file: string): { readonly path: string; readonly deliver?: () => void; readonly discard?: () => void } {
  const kind = kindAt(file);
  if (kind === 'none' || kind === 'file') return { path: file };
  if (kind === 'link') return { path: fs.realpathSync(file) };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'possum-cdk-out-'));
  const built = path.join(dir, path.basename(file));
  const discard = () => fs.rmSync(dir, { recursive: true, force: true });
  return {
    path: built,
    deliver: () => {
      try {
        copyInto(built, file);
      } finally {
        discard();
      }
    },
    discard,
  };
}

/** Copies a file's bytes to a path that is written as it is (a pipe takes them in pieces). */
function copyInto(from: string, to: string) {
  const input = fs.openSync(from, 'r');
  const { fd: output, opened } = openForWriting(to);
  try {
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    for (let read = fs.readSync(input, buffer); read > 0; read = fs.readSync(input, buffer)) {
      writeAll(output, buffer, read);
    }
  } finally {
    fs.closeSync(input);
    if (opened) fs.closeSync(output);
  }
}

/**
 * Writes the buffer's first `length` bytes, however many writes it takes: a descriptor
 * Node.js made non-blocking (its own stdout, a pipe) may be full for a moment.
 */
function writeAll(fd: number, buffer: Buffer, length: number) {
  for (let written = 0; written < length;) {
    try {
      written += fs.writeSync(fd, buffer, written, length - written);
    } catch (e: any) {
      if (e?.code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

/**
 * A descriptor to write to: the path opened, or, for /dev/stdout, /dev/stderr and /dev/fd/N
 * that cannot be opened again (a socket, as a parent process's pipes often are), this
 * process's own descriptor.
 */
function openForWriting(file: string): { fd: number; opened: boolean } {
  try {
    return { fd: fs.openSync(file, 'w'), opened: true };
  } catch (e: any) {
    const own = /^\/dev\/(stdout|stderr)$/.exec(file) ?? /^\/(?:dev|proc\/self)\/fd\/(\d+)$/.exec(file);
    if (e?.code !== 'ENXIO' || !own) throw e;
    return { fd: own[1] === 'stdout' ? 1 : own[1] === 'stderr' ? 2 : Number(own[1]), opened: false };
  }
}
