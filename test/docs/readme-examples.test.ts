import * as fs from 'fs';
import * as path from 'path';
import { readmeExampleFiles, readmeExcerpt, syncReadmeExamples } from '../../build-tools/readme-examples';
import { REPO_ROOT } from '../helpers/run';

const README = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

describe('README examples', () => {
  test('show the example apps the bindings suite synthesizes, in all three languages', () => {
    expect(readmeExampleFiles(README)).toEqual(expect.arrayContaining([
      'examples/typescript/app.ts',
      'examples/python/app.py',
      'examples/python/requirements.txt',
      'examples/java/src/main/java/dev/possum/examples/PossumExampleApp.java',
      'examples/java/pom.xml',
      'examples/sam-app/template.yaml',
    ]));
  });

  test('are the files under examples/, as they are now (run `npx projen docs:examples` after changing one)', () => {
    // Compared block by block so a failure names the file that drifted.
    const synced = syncReadmeExamples(README, REPO_ROOT);
    const blocks = (text: string) => text.split('<!-- example: ').slice(1).map(b => b.slice(0, b.indexOf('\n```\n') + 4));
    expect(blocks(README)).toEqual(blocks(synced));
    expect(README).toBe(synced);
  });

  test('an excerpt is the marked region, dedented; a lone marker is an error naming the file', () => {
    const pom = '<a>\n  <!-- readme:start -->\n    <b/>\n      <c/>\n  <!-- readme:end -->\n</a>\n';
    expect(readmeExcerpt(pom, 'pom.xml')).toBe('<b/>\n  <c/>');
    expect(readmeExcerpt('x = 1\n', 'a.py')).toBe('x = 1');
    expect(() => readmeExcerpt('# readme:end\n# readme:start\n', 'b.py')).toThrow('b.py: readme:start and readme:end must both be there, in that order.');
    expect(() => syncReadmeExamples('<!-- example: nope.py -->\n```python\nx\n```', REPO_ROOT))
      .toThrow('README.md shows nope.py, which does not exist');
  });
});
