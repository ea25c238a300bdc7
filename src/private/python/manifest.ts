import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { parseToml, parseTomlFile } from '../toml';
import { DependencySpec, lockedSteps, ManifestKind, ManifestWarning } from './dependency-spec';
import { evaluateMarker } from './markers';
import { readPoetryLock } from './poetry-lock';
import { markerEnvironment, PythonTarget } from './target';
import { readUvLock } from './uv-lock';

/** The dependency manifests a function folder can have, in the order they are looked for. */
export const MANIFEST_PRIORITY: readonly ManifestKind[] = ['Pipfile.lock', 'Pipfile', 'uv.lock', 'poetry.lock', 'requirements.txt', 'pyproject.toml'];

export interface ReadOptions {
  /** A Pipfile.lock out of date with its Pipfile is an error rather than a warning. */
  readonly strictLock?: boolean;
}

/** The manifest found in a function folder, or 'none'. */
export function detectManifest(entry: string): ManifestKind | 'none' {
  for (const kind of MANIFEST_PRIORITY) {
    const file = path.join(entry, kind);
    if (!fs.existsSync(file)) continue;
    if (kind === 'uv.lock' && !fs.existsSync(path.join(entry, 'pyproject.toml'))) continue;
    if (kind === 'pyproject.toml' && !hasProjectDependencies(file)) continue;
    return kind;
  }
  return 'none';
}

/** The kind of a manifest named explicitly (any *.txt is a requirements file). */
export function manifestKindOf(file: string): ManifestKind {
  const base = path.basename(file);
  const exact = MANIFEST_PRIORITY.find(k => k === base);
  if (exact) return exact;
  if (base.endsWith('.txt')) return 'requirements.txt';
  if (base.endsWith('.lock') && base.toLowerCase().includes('pipfile')) return 'Pipfile.lock';
  throw new Error(
    `Cannot tell what kind of dependency manifest ${file} is. Name one of ${MANIFEST_PRIORITY.join(', ')}, or a requirements file ending in .txt.`);
}

/**
 * Reads the dependencies of a function folder.
 *
 * @param manifestFile an explicit manifest (absolute), or undefined to detect one in `entry`.
 */
export function readDependencies(entry: string, manifestFile: string | undefined, target: PythonTarget, options: ReadOptions = {}): DependencySpec {
  let kind: ManifestKind | 'none';
  let file: string | undefined;
  if (manifestFile) {
    if (!fs.existsSync(manifestFile)) {
      throw new Error(`Dependency manifest ${manifestFile} does not exist; fix the manifest path or remove it to detect one in ${entry}.`);
    }
    kind = manifestKindOf(manifestFile);
    file = manifestFile;
  } else {
    kind = detectManifest(entry);
    file = kind === 'none' ? undefined : path.join(entry, kind);
  }
  switch (kind) {
    case 'none':
      return { kind, inputFiles: [], steps: [], manifestIndexUrls: [], warnings: [] };
    case 'Pipfile.lock':
      return readPipfileLock(file!, options, target);
    case 'Pipfile':
      return readPipfile(file!);
    case 'requirements.txt':
      return readRequirementsTxt(file!);
    case 'pyproject.toml':
      return readPyprojectDependencies(file!);
    case 'uv.lock':
      return readUvLock(file!, path.join(path.dirname(file!), 'pyproject.toml'), target);
    case 'poetry.lock':
      return readPoetryLock(file!, path.join(path.dirname(file!), 'pyproject.toml'), target);
  }
}

// ---------------------------------------------------------------------------------
// Pipfile.lock

interface LockedPackage {
  readonly version?: string;
  readonly hashes?: string[];
  readonly markers?: string;
  readonly extras?: string[];
  readonly git?: string;
  readonly ref?: string;
  readonly path?: string;
  readonly file?: string;
  readonly editable?: boolean;
  readonly subdirectory?: string;
}

function readPipfileLock(file: string, options: ReadOptions, target: PythonTarget): DependencySpec {
  const lock = readJson(file);
  if (typeof lock !== 'object' || lock === null || typeof lock.default !== 'object') {
    throw new Error(`${file} has no "default" section; it does not look like a Pipfile.lock. Regenerate it with "pipenv lock".`);
  }
  const warnings: ManifestWarning[] = [];
  const inputFiles = [file];
  const pipfile = path.join(path.dirname(file), 'Pipfile');
  const locked = lock._meta?.hash?.sha256;
  if (fs.existsSync(pipfile)) {
    inputFiles.push(pipfile);
    const actual = pipfileHash(fs.readFileSync(pipfile, 'utf8'), pipfile);
    if (locked !== actual) {
      const message = `${file} is out of date with ${pipfile} (the lock's _meta.hash is ${locked ?? 'missing'}, the Pipfile hashes to ${actual}). ` +
        'The lock is installed as it is; run "pipenv lock" to update it.';
      if (options.strictLock) {
        throw new Error(message.replace('The lock is installed as it is; run', 'Run'));
      }
      warnings.push({ id: 'possum-cdk:pipfileLockOutOfDate', message });
    }
  }
  const dir = path.dirname(file);
  const hashed: string[] = [];
  const unhashed: string[] = [];
  const env = markerEnvironment(target);
  for (const name of Object.keys(lock.default).sort()) {
    const pkg: LockedPackage = lock.default[name];
    // Markers are decided here for Lambda, not by pip for the build machine.
    if (pkg.markers && !evaluateMarker(pkg.markers, env)) continue;
    const line = lockedRequirement(name, pkg, dir, file);
    (pkg.hashes && pkg.hashes.length > 0 ? hashed : unhashed).push(line);
  }
  const steps = lockedSteps(hashed, unhashed);
  const sources: Array<{ url?: string }> = lock._meta?.sources ?? [];
  return {
    kind: 'Pipfile.lock',
    manifestFile: file,
    inputFiles,
    steps,
    manifestIndexUrls: sources.map(s => s.url).filter((u): u is string => typeof u === 'string'),
    warnings,
  };
}

function lockedRequirement(name: string, pkg: LockedPackage, dir: string, file: string): string {
  const extras = pkg.extras && pkg.extras.length ? `[${pkg.extras.join(',')}]` : '';
  if (pkg.git) {
    const sub = pkg.subdirectory ? `#subdirectory=${pkg.subdirectory}` : '';
    return `${name}${extras} @ git+${pkg.git.replace(/^git\+/, '')}${pkg.ref ? `@${pkg.ref}` : ''}${sub}`;
  }
  if (pkg.path || pkg.file) {
    const location = pkg.path ? path.resolve(dir, pkg.path) : pkg.file!;
    return `${name}${extras} @ ${pkg.path ? `file://${location}` : location}`;
  }
  if (pkg.version === '*') {
    // pipenv leaves packages whose markers did not hold on the locking machine unpinned.
    throw new Error(`${file}: package ${name} is not pinned (version "*"), yet Lambda needs it; ` +
      'run "pipenv lock" on a Linux machine, or pin it in the Pipfile.');
  }
  if (!pkg.version) {
    throw new Error(`${file}: package ${name} in "default" has no version, git or path; regenerate the lock with "pipenv lock".`);
  }
  const hashes = (pkg.hashes ?? []).map(h => ` --hash=${h}`).join('');
  return `${name}${extras}${pkg.version}${hashes}`;
}

/** pipenv's Pipfile hash (the lock's `_meta.hash.sha256`): sha256 of a canonical JSON form. */
export function pipfileHash(text: string, file: string): string {
  const doc = parseTomlFile(text, file);
  const reserved = new Set(['source', 'packages', 'dev-packages', 'requires', 'scripts', 'pipfile', 'pipenv', 'default', 'develop']);
  const data: Record<string, unknown> = {
    _meta: {
      sources: doc.source ?? [{ name: 'pypi', url: 'https://pypi.org/simple', verify_ssl: true }],
      requires: doc.requires ?? {},
    },
    default: doc.packages ?? {},
    develop: doc['dev-packages'] ?? {},
  };
  for (const [category, values] of Object.entries(doc)) {
    if (!reserved.has(category)) data[category] = values;
  }
  return crypto.createHash('sha256').update(pythonJsonDumps(data), 'utf8').digest('hex');
}

/** `json.dumps(value, sort_keys=True, separators=(",", ":"))` as Python writes it (ensure_ascii). */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(/[\u007f-\uffff]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  if (value instanceof Date) return pythonJsonDumps(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj).sort().map(k => `${pythonJsonDumps(k)}:${pythonJsonDumps(obj[k])}`).join(',')}}`;
}

// ---------------------------------------------------------------------------------
// Pipfile

const MARKER_KEYS = ['os_name', 'sys_platform', 'platform_machine', 'platform_python_implementation', 'platform_release',
  'platform_system', 'platform_version', 'python_version', 'python_full_version', 'implementation_name', 'implementation_version'];

function readPipfile(file: string): DependencySpec {
  const doc = parseTomlFile(fs.readFileSync(file, 'utf8'), file);
  const packages: Record<string, unknown> = doc.packages ?? {};
  const dir = path.dirname(file);
  const lines = Object.keys(packages).sort().map(name => pipfileRequirement(name, packages[name], dir, file));
  const sources: Array<{ url?: string }> = doc.source ?? [];
  return {
    kind: 'Pipfile',
    manifestFile: file,
    inputFiles: [file],
    steps: lines.length ? [{ requirements: lines.join('\n') + '\n', noDeps: false }] : [],
    manifestIndexUrls: sources.map(s => s.url).filter((u): u is string => typeof u === 'string'),
    warnings: [],
  };
}

function pipfileRequirement(name: string, spec: unknown, dir: string, file: string): string {
  if (typeof spec === 'string') {
    return spec === '*' || spec === '' ? name : `${name}${/^[=<>!~]/.test(spec) ? spec : `==${spec}`}`;
  }
  if (typeof spec !== 'object' || spec === null) {
    throw new Error(`${file}: [packages] ${name} = ${JSON.stringify(spec)} is neither a version string nor a table.`);
  }
  const s = spec as Record<string, any>;
  const extras = Array.isArray(s.extras) && s.extras.length ? `[${s.extras.join(',')}]` : '';
  const markers: string[] = [];
  if (typeof s.markers === 'string') markers.push(s.markers);
  for (const key of MARKER_KEYS) {
    if (typeof s[key] === 'string') markers.push(`${key} ${s[key]}`);
  }
  const marker = markers.length ? ` ; ${markers.map(m => markers.length > 1 ? `(${m})` : m).join(' and ')}` : '';
  if (s.git) {
    return `${name}${extras} @ git+${String(s.git).replace(/^git\+/, '')}${s.ref ? `@${s.ref}` : ''}${s.subdirectory ? `#subdirectory=${s.subdirectory}` : ''}${marker}`;
  }
  if (s.path || s.file) {
    const target = s.path ? `file://${path.resolve(dir, s.path)}` : s.file;
    return `${name}${extras} @ ${target}${marker}`;
  }
  const version = typeof s.version === 'string' && s.version !== '*' ? (/^[=<>!~]/.test(s.version) ? s.version : `==${s.version}`) : '';
  return `${name}${extras}${version}${marker}`;
}

// ---------------------------------------------------------------------------------
// requirements.txt

function readRequirementsTxt(file: string): DependencySpec {
  return {
    kind: 'requirements.txt',
    manifestFile: file,
    inputFiles: requirementsIncludes(file, []),
    // pip reads the file itself: -r/-c includes, hashes, markers and options all keep working.
    steps: [{ requirements: `-r ${file}\n`, noDeps: false }],
    manifestIndexUrls: [],
    warnings: [],
  };
}

/** The requirements file and every file it includes with -r/-c, recursively. */
function requirementsIncludes(file: string, seen: string[]): string[] {
  if (seen.includes(file)) return [];
  if (!fs.existsSync(file)) {
    const from = seen.length ? ` (included from ${seen[seen.length - 1]})` : '';
    throw new Error(`Requirements file ${file}${from} does not exist; fix the -r/-c line or create the file.`);
  }
  const found = [file];
  const lines = fs.readFileSync(file, 'utf8').replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    const m = /^(?:-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)/.exec(line);
    if (m && !/^[a-z]+:\/\//.test(m[1])) {
      found.push(...requirementsIncludes(path.resolve(path.dirname(file), m[1]), [...seen, file]));
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------
// pyproject.toml

function hasProjectDependencies(file: string): boolean {
  try {
    const doc = parseToml(fs.readFileSync(file, 'utf8')) as any;
    return Array.isArray(doc?.project?.dependencies) && doc.project.dependencies.length > 0;
  } catch {
    return false;
  }
}

function readPyprojectDependencies(file: string): DependencySpec {
  const doc = parseTomlFile(fs.readFileSync(file, 'utf8'), file);
  const deps = doc.project?.dependencies;
  if (deps !== undefined && (!Array.isArray(deps) || deps.some((d: unknown) => typeof d !== 'string'))) {
    throw new Error(`${file}: [project].dependencies must be a list of requirement strings.`);
  }
  const lines: string[] = deps ?? [];
  return {
    kind: 'pyproject.toml',
    manifestFile: file,
    inputFiles: [file],
    steps: lines.length ? [{ requirements: lines.join('\n') + '\n', noDeps: false }] : [],
    manifestIndexUrls: [],
    warnings: [],
  };
}

// ---------------------------------------------------------------------------------

function readJson(file: string): any {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e: any) {
    throw new Error(`${file} is not valid JSON: ${e?.message ?? e}`);
  }
}
