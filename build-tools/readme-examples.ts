/**
 * Keeps the README's example code equal to the files under examples/, which the test
 * suites synthesize. In README.md a block
 *
 *     <!-- example: examples/python/app.py -->
 *     ```python
 *     ...
 *     ```
 *
 * is rewritten with the file's text; a file with `readme:start` / `readme:end` marker lines
 * contributes only the lines between them. `npx projen docs:examples` rewrites README.md;
 * test/docs/readme-examples.test.ts fails when it is out of date.
 */
import * as fs from 'fs';
import * as path from 'path';

const BLOCK = /<!-- example: (\S+) -->\n```(\w*)\n(?:[\s\S]*?\n)??```/g;

/** The part of an example file the README shows. */
export function readmeExcerpt(text: string, file: string): string {
  const lines = text.replace(/\n$/, '').split('\n');
  const start = lines.findIndex(l => l.includes('readme:start'));
  const end = lines.findIndex(l => l.includes('readme:end'));
  if (start < 0 && end < 0) return lines.join('\n');
  if (start < 0 || end < start) throw new Error(`${file}: readme:start and readme:end must both be there, in that order.`);
  const excerpt = lines.slice(start + 1, end);
  const indent = Math.min(...excerpt.filter(l => l.trim()).map(l => l.length - l.trimStart().length));
  return excerpt.map(l => l.slice(indent)).join('\n');
}

/** README text with every example block refilled from its file; throws on a missing file. */
export function syncReadmeExamples(readme: string, root: string): string {
  return readme.replace(BLOCK, (_block, file: string, lang: string) => {
    const full = path.join(root, file);
    if (!fs.existsSync(full)) throw new Error(`README.md shows ${file}, which does not exist; fix the <!-- example: --> line.`);
    return `<!-- example: ${file} -->\n\`\`\`${lang}\n${readmeExcerpt(fs.readFileSync(full, 'utf8'), file)}\n\`\`\``;
  });
}

/** The example files the README shows. */
export function readmeExampleFiles(readme: string): string[] {
  return [...readme.matchAll(BLOCK)].map(m => m[1]);
}

if (require.main === module) {
  const root = path.resolve(__dirname, '..');
  const file = path.join(root, 'README.md');
  const before = fs.readFileSync(file, 'utf8');
  const after = syncReadmeExamples(before, root);
  if (after !== before) fs.writeFileSync(file, after);
  process.stderr.write(`README.md: ${readmeExampleFiles(after).length} example blocks ${after === before ? 'already in sync' : 'updated'}\n`);
}
