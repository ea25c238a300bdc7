import * as fs from 'fs';
import * as path from 'path';

/**
 * A compiled script a module runs as a child process: beside the module once compiled
 * (lib/), or, when the module runs from its TypeScript source (tests), the compiled copy
 * under lib/ at the same place.
 * @param dir the calling module's __dirname
 * @param name the script's file name, e.g. `worker.js`
 * @param what what the script is, for the error
 */
export function compiledScript(dir: string, name: string, what: string): string {
  const beside = path.join(dir, name);
  if (fs.existsSync(beside)) return beside;
  const src = path.join(__dirname, '..');
  const compiled = path.join(src, '..', 'lib', path.relative(src, dir), name);
  if (fs.existsSync(compiled)) return compiled;
  throw new Error(`${what} is not compiled (looked for ${beside} and ${compiled}); run "npx projen compile".`);
}
