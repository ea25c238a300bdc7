import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { parseTomlFile } from '../toml';
import { DependencySpec, lockedSteps, ManifestKind, ManifestWarning } from './dependency-spec';
import { evaluateMarker } from './markers';
import { poetryToPep440 } from './pep440';
import { readPoetryLock } from './poetry-lock';
import { checkProjectPython, fileUrl } from './project';
import { checkRequirementName, localPathOf, readText, scanRequirements } from './requirements-file';
import { markerEnvironment, PythonTarget } from './target';
import { findUvWorkspace, readUvLock, uvSourcePaths } from './uv-lock';

/** The dependency manifests a function folder can have, in the order they are looked for. */
export const MANIFEST_PRIORITY: readonly ManifestKind[] = ['Pipfile.lock', 'Pipfile', 'uv.lock', 'poetry.lock', 'requirements.txt', 'pyproject.toml'];

export interface ReadOptions {
  /** A lock out of date with its project file is an error rather than a warning. */
  readonly strictLock?: boolean;
}

/** A manifest found for a function folder. */
export interface FoundManifest {
  readonly kind: ManifestKind;
  readonly file: string;
}

/**
 * The manifest of a function folder, or undefined. A folder that is a member of a uv
 * workspace (its pyproject.toml is listed by a parent's `[tool.uv.workspace]`) uses the
 * workspace's uv.lock.
 * @throws Error naming pyproject.toml when it is the only candidate and is not valid TOML
 */
export function detectManifest(entry: string): FoundManifest | undefined {
  const pyproject = path.join(entry, 'pyproject.toml');
  for (const kind of MANIFEST_PRIORITY) {
    const file = path.join(entry, kind);
    if (kind === 'uv.lock') {
      if (fs.existsSync(file) && fs.existsSync(pyproject)) return { kind, file };
      const workspace = fs.existsSync(pyproject) ? findUvWorkspace(entry) : undefined;
      if (workspace?.lockFile) return { kind, file: workspace.lockFile };
      continue;
    }
    if (!fs.existsSync(file)) continue;
    if (kind === 'pyproject.toml' && !hasDependencies(file)) continue;
    return { kind, file };
  }
  return undefined;
}

/** The kind of a manifest named explicitly (any *.txt is a requirements file). */
export function manifestKindOf(file: string): ManifestKind {
  const base = path.basename(file);
  const exact = MANIFEST_PRIORITY.find(k => k === base);
  if (exact) return exact;
  if (base.endsWith('.txt') || base.endsWith('.in')) return 'requirements.txt';
  if (base.endsWith('.lock') && base.toLowerCase().includes('pipfile')) return 'Pipfile.lock';
  throw new Error(
    `Cannot tell what kind of dependency manifest ${file} is. Name one of ${MANIFEST_PRIORITY.join(', ')}, or a requirements file ending in .txt.`);
}

/**
 * Reads the dependencies of a function folder for a target.
 *
 * @param manifestFile an explicit manifest (absolute), or undefined to detect one in `entry`.
 */
export function readDependencies(entry: string, manifestFile: string | undefined, target: PythonTarget, options: ReadOptions = {}): DependencySpec {
  let found: FoundManifest | undefined;
  if (manifestFile) {
    if (!fs.existsSync(manifestFile)) {
      throw new Error(`Dependency manifest ${manifestFile} does not exist; fix the manifest path or remove it to detect one in ${entry}.`);
    }
    found = { kind: manifestKindOf(manifestFile), file: manifestFile };
  } else {
    found = detectManifest(entry);
  }
  if (!found) return { kind: 'none', inputFiles: [], steps: [], localSources: [], manifestIndexUrls: [], warnings: [] };
  const spec = readFound(found, entry, manifestFile, target, options);
  for (const text of [...spec.steps.map(s => s.requirements), spec.resolve?.text ?? '']) {
    for (const line of text.split('\n')) if (line && !line.startsWith('#') && !line.startsWith('-')) checkRequirementName(line, found.file);
  }
  return spec;
}

function readFound(found: FoundManifest, entry: string, manifestFile: string | undefined, target: PythonTarget,
  options: ReadOptions): DependencySpec {
  const file = found.file;
  switch (found.kind) {
    case 'Pipfile.lock':
      return readPipfileLock(file, options, target);
    case 'Pipfile':
      return readPipfile(file, target);
    case 'requirements.txt':
      return readRequirementsTxt(file);
    case 'pyproject.toml':
      return readPyproject(file, target);
    case 'uv.lock': {
      // A workspace member's own pyproject names the project; the lock is the workspace's.
      const memberPyproject = path.join(manifestFile ? path.dirname(file) : entry, 'pyproject.toml');
      return readUvLock(file, fs.existsSync(memberPyproject) ? memberPyproject : path.join(path.dirname(file), 'pyproject.toml'), target, options);
    }
    case 'poetry.lock':
      return readPoetryLock(file, path.join(path.dirname(file), 'pyproject.toml'), target);
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
    const actual = pipfileHash(readText(pipfile), pipfile);
    if (locked !== actual) {
      const message = `${file} is out of date with ${pipfile} (the lock's _meta.hash is ${locked ?? 'missing'}, the Pipfile hashes to ${actual}). ` +
        'The lock is installed as it is; run "pipenv lock" to update it.';
      if (options.strictLock) {
        throw new Error(message.replace('The lock is installed as it is; run', 'Run'));
      }
      warnings.push({ id: 'possum-cdk:pipfileLockOutOfDate', message });
    }
  }
  warnings.push(...pipfilePythonWarnings(lock._meta?.requires ?? {}, file, target));
  const dir = path.dirname(file);
  const hashed: string[] = [];
  const unhashed: string[] = [];
  const localSources: string[] = [];
  const env = markerEnvironment(target);
  const unpinned: string[] = [];
  for (const name of Object.keys(lock.default).sort()) {
    const pkg: LockedPackage = lock.default[name];
    // Markers are decided here for Lambda, not by pip for the build machine.
    if (pkg.markers && !evaluateMarker(pkg.markers, env)) continue;
    const exact = typeof pkg.version === 'string' && /^===?\s*[0-9A-Za-z]/.test(pkg.version);
    if (!exact && !pkg.git && !pkg.path && !pkg.file) {
      // pipenv leaves a package unpinned ("*", or its Pipfile range written as "==>=5.3")
      // when its markers did not hold on the machine that locked (a Linux-only or
      // arm64-only package locked on a Mac): Lambda needs it anyway.
      const range = (pkg.version ?? '').replace(/^==(?=[<>!~=])/, '').replace(/^\*$/, '');
      unpinned.push(`${name}${pkg.extras && pkg.extras.length ? `[${pkg.extras.join(',')}]` : ''}${range}`);
      continue;
    }
    const line = lockedRequirement(name, pkg, dir, file);
    if (pkg.path) localSources.push(path.resolve(dir, pkg.path));
    (pkg.hashes && pkg.hashes.length > 0 ? hashed : unhashed).push(line);
  }
  if (unpinned.length > 0) {
    warnings.push({
      id: 'possum-cdk:pipfileLockUnpinned',
      message: `${file} leaves ${unpinned.join(', ')} unpinned (pipenv locked it on a machine where its markers did not hold), yet ` +
        `${target.runtime} on ${target.architecture} needs it; possum-cdk resolves it for the target beside the lock's pins. ` +
        'Run "pipenv lock" on Linux to pin it.',
    });
  }
  const sources: Array<{ url?: string }> = lock._meta?.sources ?? [];
  return {
    kind: 'Pipfile.lock',
    manifestFile: file,
    inputFiles,
    steps: lockedSteps(hashed, unhashed),
    resolve: unpinned.length > 0
      ? { text: unpinned.join('\n') + '\n', cwd: dir, constraints: hashed.map(l => l.split(' --hash=')[0]).join('\n') + '\n' }
      : undefined,
    localSources,
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
    return `${name}${extras} @ ${pkg.path ? fileUrl(location) : location}`;
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

/** pipenv warns, and so does possum-cdk, when `[requires]` names another Python than the runtime's. */
function pipfilePythonWarnings(requires: Record<string, unknown>, file: string, target: PythonTarget): ManifestWarning[] {
  const wanted = typeof requires.python_full_version === 'string' ? requires.python_full_version : requires.python_version;
  if (typeof wanted !== 'string' || wanted === '*') return [];
  const minor = wanted.split('.').slice(0, 2).join('.');
  if (minor === target.pythonVersion) return [];
  return [{
    id: 'possum-cdk:pythonVersionMismatch',
    message: `${file} asks for Python ${wanted} ([requires]), but the function's runtime is ${target.runtime}. ` +
      'The dependencies are installed for the runtime; set [requires] to match it, or change the runtime.',
  }];
}

// ---------------------------------------------------------------------------------
// Pipfile

const MARKER_KEYS = ['os_name', 'sys_platform', 'platform_machine', 'platform_python_implementation', 'platform_release',
  'platform_system', 'platform_version', 'python_version', 'python_full_version', 'implementation_name', 'implementation_version'];

/** A Pipfile without a lock: its [packages] as requirement lines, resolved by uv for the target. */
function readPipfile(file: string, target: PythonTarget): DependencySpec {
  const doc = parseTomlFile(readText(file), file);
  const packages: Record<string, unknown> = doc.packages ?? {};
  const dir = path.dirname(file);
  const localSources: string[] = [];
  const lines = Object.keys(packages).sort().map(name => pipfileRequirement(name, packages[name], dir, file, localSources));
  const sources: Array<{ url?: string }> = doc.source ?? [];
  return {
    kind: 'Pipfile',
    manifestFile: file,
    inputFiles: [file],
    steps: [],
    resolve: lines.length ? { text: lines.join('\n') + '\n', cwd: dir } : undefined,
    localSources,
    manifestIndexUrls: sources.map(s => s.url).filter((u): u is string => typeof u === 'string'),
    warnings: pipfilePythonWarnings(doc.requires ?? {}, file, target),
  };
}

function pipfileRequirement(name: string, spec: unknown, dir: string, file: string, localSources: string[]): string {
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
  if (s.path) {
    const location = path.resolve(dir, s.path);
    localSources.push(location);
    return `${name}${extras} @ ${fileUrl(location)}${marker}`;
  }
  if (s.file) {
    const local = localPathOf(s.file, dir);
    if (local) localSources.push(local);
    return `${name}${extras} @ ${local ? fileUrl(local) : s.file}${marker}`;
  }
  const version = typeof s.version === 'string' && s.version !== '*' ? (/^[=<>!~]/.test(s.version) ? s.version : `==${s.version}`) : '';
  return `${name}${extras}${version}${marker}`;
}

// ---------------------------------------------------------------------------------
// requirements.txt

/** A requirements file, which uv reads itself (includes, markers, options), resolved for the target. */
function readRequirementsTxt(file: string): DependencySpec {
  const dir = path.dirname(file);
  const scan = scanRequirements(file, dir);
  return {
    kind: 'requirements.txt',
    manifestFile: file,
    inputFiles: scan.files,
    steps: [],
    resolve: { file, cwd: dir, hashes: Object.keys(scan.hashes).length > 0 ? scan.hashes : undefined },
    localSources: scan.localPaths,
    manifestIndexUrls: scan.indexUrls,
    manifestExtraIndexUrls: scan.extraIndexUrls,
    warnings: [],
  };
}

// ---------------------------------------------------------------------------------
// pyproject.toml

/** Whether a pyproject.toml declares dependencies possum-cdk should install. */
function hasDependencies(file: string): boolean {
  const doc = parseTomlFile(readText(file), file);
  const project = Array.isArray(doc?.project?.dependencies) && doc.project.dependencies.length > 0;
  const poetry = Object.keys(doc?.tool?.poetry?.dependencies ?? {}).some(k => k.toLowerCase() !== 'python');
  return project || poetry;
}

/**
 * A pyproject.toml without a lock: `[project].dependencies` (uv reads the file itself, with
 * its `[tool.uv.sources]`), else Poetry's `[tool.poetry.dependencies]` turned into
 * requirement lines. Resolved by uv for the target.
 */
function readPyproject(file: string, target: PythonTarget): DependencySpec {
  const doc = parseTomlFile(readText(file), file);
  const dir = path.dirname(file);
  const deps = doc.project?.dependencies;
  if (deps !== undefined && (!Array.isArray(deps) || deps.some((d: unknown) => typeof d !== 'string'))) {
    throw new Error(`${file}: [project].dependencies must be a list of requirement strings.`);
  }
  checkProjectPython(doc, file, target);
  const base = { kind: 'pyproject.toml' as const, manifestFile: file, inputFiles: [file], steps: [], manifestIndexUrls: [], warnings: [] };
  if (Array.isArray(deps) && deps.length > 0) {
    const local = [...uvSourcePaths(doc, dir), ...deps.map(d => / @ (\S+)/.exec(d.split(';')[0])?.[1]).flatMap(u => u ? [localPathOf(u, dir)] : [])]
      .filter((p): p is string => !!p);
    return { ...base, resolve: { file, cwd: dir }, localSources: [...new Set(local)] };
  }
  const localSources: string[] = [];
  const lines = Object.entries<unknown>(doc.tool?.poetry?.dependencies ?? {})
    .filter(([name]) => name.toLowerCase() !== 'python')
    .flatMap(([name, spec]) => poetryRequirements(name, spec, dir, file, localSources));
  return { ...base, resolve: lines.length ? { text: lines.join('\n') + '\n', cwd: dir } : undefined, localSources };
}

/**
 * Poetry dependency tables as PEP 508 lines: `^1.2` and friends become PEP 440
 * specifiers, `python = "..."` and `platform` become markers, `path`/`git`/`url` become
 * direct references. Several constraint tables (`[{version, python}, ...]`) give one line each.
 */
function poetryRequirements(name: string, spec: unknown, dir: string, file: string, localSources: string[]): string[] {
  const specs = Array.isArray(spec) ? spec : [spec];
  return specs.flatMap((s: any): string[] => {
    if (typeof s === 'string') return [`${name}${poetrySpecifier(s, name, file)}`];
    if (typeof s !== 'object' || s === null) throw new Error(`${file}: [tool.poetry.dependencies] ${name} is neither a constraint nor a table.`);
    if (s.optional) return [];
    const extras = Array.isArray(s.extras) && s.extras.length ? `[${s.extras.join(',')}]` : '';
    const markers: string[] = [];
    if (typeof s.markers === 'string') markers.push(`(${s.markers})`);
    if (typeof s.python === 'string') markers.push(`(${pythonMarker(s.python, name, file)})`);
    if (typeof s.platform === 'string') markers.push(`sys_platform == "${s.platform}"`);
    const marker = markers.length ? ` ; ${markers.join(' and ')}` : '';
    if (typeof s.path === 'string') {
      const location = path.resolve(dir, s.path);
      localSources.push(location);
      return [`${name}${extras} @ ${fileUrl(location)}${marker}`];
    }
    if (typeof s.git === 'string') {
      const ref = s.rev ?? s.tag ?? s.branch;
      return [`${name}${extras} @ git+${s.git.replace(/^git\+/, '')}${ref ? `@${ref}` : ''}${s.subdirectory ? `#subdirectory=${s.subdirectory}` : ''}${marker}`];
    }
    if (typeof s.url === 'string') return [`${name}${extras} @ ${s.url}${marker}`];
    return [`${name}${extras}${typeof s.version === 'string' ? poetrySpecifier(s.version, name, file) : ''}${marker}`];
  });
}

function poetrySpecifier(constraint: string, name: string, file: string): string {
  const alternatives = poetryToPep440(constraint);
  if (alternatives.length !== 1) {
    throw new Error(`${file}: [tool.poetry.dependencies] ${name} = "${constraint}" has alternatives (||), which a requirement cannot express; ` +
      'lock the project with "poetry lock" (possum-cdk then installs the lock), or use a single range.');
  }
  return alternatives[0];
}

/** Poetry's `python = "^3.9"` as a marker over python_full_version. */
function pythonMarker(constraint: string, name: string, file: string): string {
  return poetryToPep440(constraint).map(set => {
    const clauses = set.split(',').map(c => c.trim()).filter(Boolean);
    if (clauses.length === 0) return 'python_version >= "0"';
    return clauses.map(c => {
      const m = /^(~=|===|==|!=|<=|>=|<|>)\s*(.+)$/.exec(c);
      if (!m) throw new Error(`${file}: python = "${constraint}" of ${name} cannot be read.`);
      return `python_full_version ${m[1]} "${m[2]}"`;
    }).join(' and ');
  }).map(x => `(${x})`).join(' or ');
}

// ---------------------------------------------------------------------------------

function readJson(file: string): any {
  const text = readText(file);
  try {
    return JSON.parse(text);
  } catch (e: any) {
    throw new Error(`${file} is not valid JSON: ${e?.message ?? e}`);
  }
}
