import * as fs from 'fs';
import * as path from 'path';
import { ALWAYS_EXCLUDED, PathRules } from './zip/path-rules';

/**
 * Where a Lambda handler's module lives in a function's folder, and whether the bundle's
 * exclude patterns leave it out. The SAM planner uses the first to warn about a Handler
 * its folder does not hold; the bundler uses both to warn about one that an exclude
 * pattern drops (Lambda would then fail every invocation with "Unable to import module").
 */

/**
 * The module a handler names, as written (`src.app` for `src.app.handler`, `src/app` for
 * `src/app.handler`, which is how Lambda names it in its errors), or undefined when it is no
 * module path Python could import.
 */
export function handlerModuleOf(handler: string): string | undefined {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const module = handler.slice(0, dot);
  return modulePath(module).every(p => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p)) ? module : undefined;
}

/** The names a module path is made of, whether written with dots or slashes. */
export function modulePath(module: string): string[] {
  return module.split(/[./]/);
}

/** Where the module is under `root`, with `/` separators. */
export interface ModuleFile {
  /** `src/app.py`, a package's `src/app/__init__.py`, a namespace folder `src/app`, or a compiled `src/app.cpython-311-x86_64-linux-gnu.so`. */
  readonly rel: string;
  readonly isDirectory: boolean;
}

/** Finds a module (dots or slashes) under `root` as Python would import it from there; undefined when absent. */
export function findModule(root: string, module: string): ModuleFile | undefined {
  const parts = modulePath(module);
  const base = path.join(root, ...parts);
  const rel = parts.join('/');
  if (isFile(`${base}.py`)) return { rel: `${rel}.py`, isDirectory: false };
  // A package's handler is in its __init__.py, which a pattern such as `*.py` can leave out
  // while the folder stays; a folder without one is a namespace package.
  if (isDirectory(base)) return isFile(path.join(base, '__init__.py')) ? { rel: `${rel}/__init__.py`, isDirectory: false } : { rel, isDirectory: true };
  const parent = path.dirname(base);
  const last = parts[parts.length - 1];
  if (!isDirectory(parent)) return undefined;
  const compiled = fs.readdirSync(parent).filter(n => n.startsWith(`${last}.`) && /\.(so|pyd|pyc)$/.test(n)).sort()[0];
  return compiled ? { rel: [...parts.slice(0, -1), compiled].join('/'), isDirectory: false } : undefined;
}

/** What leaves a module out: the pattern, and the path it matched (the module, or a folder above it, with a trailing `/`). */
export interface Exclusion {
  readonly pattern: string;
  readonly path: string;
}

/**
 * What leaves the module out of a bundle made with these excludes (the engine's fixed ones
 * included), or undefined when it goes in. A folder above it that is excluded takes it
 * along, whatever patterns come after.
 */
export function exclusionOf(found: ModuleFile, excludes: readonly string[]): Exclusion | undefined {
  const rules = new PathRules([...ALWAYS_EXCLUDED, ...excludes]);
  const parts = found.rel.split('/');
  for (let i = 1; i < parts.length; i++) {
    const folder = parts.slice(0, i).join('/');
    const pattern = rules.excludedBy(folder, true);
    if (pattern) return { pattern, path: `${folder}/` };
  }
  const pattern = rules.excludedBy(found.rel, found.isDirectory);
  return pattern ? { pattern, path: found.isDirectory ? `${found.rel}/` : found.rel } : undefined;
}

export function isDirectory(p: string): boolean {
  return fs.existsSync(p) && fs.statSync(p).isDirectory();
}

export function isFile(p: string): boolean {
  return fs.existsSync(p) && fs.statSync(p).isFile();
}
