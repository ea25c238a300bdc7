import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../../src/private/atomic-file';
import { run, tempDir } from '../helpers/run';

/** Where `possum -o` and `package-python-function --report` write (a user may name any path). */
describe('writing an output file', () => {
  test('a regular file is replaced whole, and nothing is left beside it', () => {
    const dir = tempDir('atomic');
    const file = path.join(dir, 'out.yaml');
    fs.writeFileSync(file, 'old\n');
    const inode = fs.statSync(file).ino;
    writeFileAtomic(file, 'new\n');
    expect(fs.readFileSync(file, 'utf8')).toBe('new\n');
    expect(fs.statSync(file).ino).not.toBe(inode); // a rename, not a write in place
    expect(fs.readdirSync(dir)).toEqual(['out.yaml']);
  });

  test('a symbolic link stays a link, and the file it names gets the content', () => {
    const dir = tempDir('atomic-link');
    fs.mkdirSync(path.join(dir, 'real'));
    fs.writeFileSync(path.join(dir, 'real', 'packaged.yaml'), 'old\n');
    fs.symlinkSync(path.join('real', 'packaged.yaml'), path.join(dir, 'out.yaml'));
    writeFileAtomic(path.join(dir, 'out.yaml'), 'new\n');
    expect(fs.lstatSync(path.join(dir, 'out.yaml')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'real', 'packaged.yaml'), 'utf8')).toBe('new\n');
    expect(fs.readdirSync(path.join(dir, 'real'))).toEqual(['packaged.yaml']);
    // A link to nothing yet: written through, so the file it names appears.
    fs.symlinkSync(path.join('real', 'later.yaml'), path.join(dir, 'later.yaml'));
    writeFileAtomic(path.join(dir, 'later.yaml'), 'first\n');
    expect(fs.readFileSync(path.join(dir, 'real', 'later.yaml'), 'utf8')).toBe('first\n');
    expect(fs.lstatSync(path.join(dir, 'later.yaml')).isSymbolicLink()).toBe(true);
  });

  test('a FIFO (like /dev/stdout or /dev/null, not a regular file) is written to, not replaced', async () => {
    const dir = tempDir('atomic-fifo');
    const fifo = path.join(dir, 'pipe');
    expect(run('mkfifo', [fifo]).status).toBe(0);
    const reader = spawn('cat', [fifo]);
    let got = '';
    reader.stdout.on('data', d => got += d);
    const ended = new Promise(resolve => reader.on('close', resolve));
    // A FIFO replaced by a file would leave the reader waiting: it is stopped after 3 s.
    setTimeout(() => reader.kill(), 3000).unref();
    writeFileAtomic(fifo, 'through the pipe\n');
    await ended;
    expect(got).toBe('through the pipe\n');
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['pipe']);
  });
});
