import * as fs from 'fs';
import * as path from 'path';
import { clipped } from '../clip';

/**
 * What a requirements file (pip's format) says beyond its requirements, found without
 * running pip: the files it includes, the local paths it installs from, the indexes it names.
 */
export interface RequirementsScan {
  /** The file and every file it includes with -r/-c, recursively. */
  readonly files: string[];
  /** Absolute local paths it installs from (`-e ../lib`, `./vendor/pkg`, `name @ file://...`). */
  readonly localPaths: string[];
  /** `--index-url` values (may hold credentials). */
  readonly indexUrls: string[];
  /** `--extra-index-url` values: indexes beside the main one, not instead of it. */
  readonly extraIndexUrls: string[];
  /** `--hash` values by normalized package name (`sha256:...`). */
  readonly hashes: Record<string, string[]>;
}

/**
 * Reads a requirements file and its includes. `-r`/`-c` paths are relative to the file
 * that names them; requirement paths to `baseDir` (pip resolves them against the folder it
 * runs in, and possum-cdk runs it in the manifest's folder).
 *
 * @throws Error naming the file and the including file when an include is missing, or
 * when a file is not UTF-8 text
 */
export function scanRequirements(file: string, baseDir: string = path.dirname(file)): RequirementsScan {
  const files: string[] = [];
  const localPaths: string[] = [];
  const indexUrls: string[] = [];
  const extraIndexUrls: string[] = [];
  const hashes: Record<string, string[]> = {};
  const visit = (current: string, from: string | undefined) => {
    if (files.includes(current)) return;
    if (!fs.existsSync(current)) {
      throw new Error(`Requirements file ${current}${from ? ` (included from ${from})` : ''} does not exist; fix the -r/-c line or create the file.`);
    }
    files.push(current);
    for (const line of logicalLines(readText(current))) {
      const option = /^(-r|--requirement|-c|--constraint|-e|--editable|-i|--index-url|--extra-index-url|-f|--find-links)(?:\s+|=)(\S+)/.exec(line);
      if (option) {
        const [, flag, value] = option;
        if (/^(-r|--requirement|-c|--constraint)$/.test(flag)) {
          if (!isUrl(value)) visit(path.resolve(path.dirname(current), value), current);
        } else if (flag === '-e' || flag === '--editable') {
          const local = localPathOf(value, baseDir);
          if (local) localPaths.push(local);
        } else if (flag === '--extra-index-url') {
          extraIndexUrls.push(value);
        } else if (/^(-i|--index-url)$/.test(flag)) {
          indexUrls.push(value);
        }
        continue;
      }
      if (line.startsWith('-')) continue;
      checkRequirementName(line, current);
      const spec = line.split(/\s+--hash[=\s]/)[0].split(';')[0].trim();
      const given = [...line.matchAll(/--hash[=\s]+(\S+)/g)].map(m => m[1]);
      const name = /^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(spec)?.[0];
      if (given.length > 0 && name) {
        const key = name.toLowerCase().replace(/[-_.]+/g, '-');
        hashes[key] = [...new Set([...(hashes[key] ?? []), ...given])];
      }
      const direct = / @ (\S+)/.exec(spec)?.[1] ?? (/^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*([=<>!~]|$)/.test(spec) ? undefined : spec.split(/\s/)[0]);
      const local = direct && localPathOf(direct.replace(/#.*$/, '').replace(/\[[^\]]*\]$/, ''), baseDir);
      if (local) localPaths.push(local);
    }
  };
  visit(file, undefined);
  return { files, localPaths: [...new Set(localPaths)], indexUrls, extraIndexUrls, hashes };
}

/** Package names longer than this are refused (PyPI's longest are well under 100 characters). */
const MAX_NAME_LENGTH = 200;

/**
 * Refuses a requirement whose package name is absurdly long, before an index is asked for
 * it (an index answers such a URL with an error that reads like a network failure).
 */
export function checkRequirementName(requirement: string, file: string) {
  const name = /^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(requirement.trim())?.[0];
  if (name && name.length > MAX_NAME_LENGTH) {
    throw new Error(`${file} requires a package named ${clipped(name, 60)}, ${name.length.toLocaleString('en-US')} characters long; ` +
      `no package name is longer than ${MAX_NAME_LENGTH}. Fix the requirement.`);
  }
}

/** A requirements file's logical lines: continuations joined, comments and blank lines dropped. */
export function logicalLines(text: string): string[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map(raw => raw.replace(/(^|\s)#.*$/, '').trim())
    .filter(Boolean);
}

/** Reads a text manifest, refusing bytes that are not UTF-8 with a message naming the file. */
export function readText(file: string): string {
  const bytes = fs.readFileSync(file);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw new Error(`${file} is not UTF-8 text; save it as UTF-8 (pip, uv and possum-cdk read manifests as UTF-8).`);
  }
}

function isUrl(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
}

/** The absolute local path a requirement installs from, or undefined (a name, a remote URL). */
export function localPathOf(value: string, baseDir: string): string | undefined {
  if (/^file:/i.test(value)) {
    const p = decodeURIComponent(value.replace(/^file:(\/\/)?/i, ''));
    return path.resolve(baseDir, p.startsWith('/') ? p : p);
  }
  if (isUrl(value) || /^(git|hg|svn|bzr)\+/.test(value)) return undefined;
  if (value.startsWith('.') || value.startsWith('/') || value.includes('/') || /\.(whl|zip|tar\.gz|tgz|tar\.bz2)$/.test(value)) {
    return path.resolve(baseDir, value);
  }
  return undefined;
}
