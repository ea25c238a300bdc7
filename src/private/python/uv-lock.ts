import * as fs from 'fs';
import * as path from 'path';
import { parseTomlFile } from '../toml';
import { DependencySpec, lockFileSpec, ManifestWarning } from './dependency-spec';
import { LockedEdge, LockedNode, parsePep508, reachableRequirements } from './lock-graph';
import type { ReadOptions } from './manifest';
import { normalizeName } from './markers';
import { parseSpecifierSet } from './pep440';
import { checkProjectPython, fileUrl } from './project';
import { readText } from './requirements-file';
import { markerEnvironment, PythonTarget } from './target';

interface UvDependency {
  readonly name: string;
  readonly version?: string;
  readonly marker?: string;
  readonly extra?: string[];
}

interface UvRequiresDist {
  readonly name: string;
  readonly specifier?: string;
  readonly extras?: string[];
  readonly marker?: string;
}

interface UvPackage {
  readonly 'name': string;
  readonly 'version'?: string;
  readonly 'source'?: Record<string, string>;
  readonly 'dependencies'?: UvDependency[];
  readonly 'optional-dependencies'?: Record<string, UvDependency[]>;
  readonly 'sdist'?: { hash?: string };
  readonly 'wheels'?: Array<{ hash?: string }>;
  readonly 'metadata'?: { 'requires-dist'?: UvRequiresDist[] };
}

/**
 * uv.lock: installs the packages reachable from the project's main dependencies (not its
 * dev groups), pinned with the lock's wheel and sdist hashes. `pyproject` names the project
 * (a workspace member's own pyproject.toml when the lock is its workspace's).
 */
export function readUvLock(file: string, pyproject: string, target: PythonTarget, options: ReadOptions = {}): DependencySpec {
  const doc = parseTomlFile(readText(file), file);
  if (!fs.existsSync(pyproject)) {
    throw new Error(`${file} needs the project's ${pyproject} beside it to know which package is the project.`);
  }
  const project = parseTomlFile(readText(pyproject), pyproject);
  const projectName = project?.project?.name;
  if (typeof projectName !== 'string') {
    throw new Error(`${pyproject} has no [project].name, which uv.lock needs to find the project's own entry.`);
  }
  if (typeof doc['requires-python'] === 'string') {
    checkProjectPython(project, pyproject, target, { value: doc['requires-python'], from: `${file} requires-python` });
  } else {
    checkProjectPython(project, pyproject, target);
  }
  const packages: UvPackage[] = Array.isArray(doc.package) ? doc.package : [];
  const dir = path.dirname(file);
  const toEdge = (d: UvDependency): LockedEdge => ({ name: d.name, version: d.version, marker: d.marker, extras: d.extra ?? [] });
  const localSources: string[] = [];
  const nodes: LockedNode[] = packages.map(p => {
    const name = normalizeName(p.name);
    const isRoot = name === normalizeName(projectName);
    const { requirement, hashed, local } = uvRequirement(p, dir, file);
    if (local && !isRoot) localSources.push(local);
    return {
      name,
      version: p.version ?? '',
      requirement,
      hashed,
      isRoot,
      dependencies: (extras: readonly string[]) => [
        ...(p.dependencies ?? []).map(toEdge),
        ...extras.flatMap(x => (p['optional-dependencies']?.[x] ?? []).map(toEdge)),
      ],
    };
  });
  const rootNode = nodes.find(n => n.isRoot);
  if (!rootNode) {
    throw new Error(`${file} has no entry for the project ${projectName} named in ${pyproject}; run "uv lock" again.`);
  }
  const reachable = reachableRequirements(file, nodes, rootNode.dependencies([]), markerEnvironment(target));
  const warnings = staleness(file, pyproject, project, packages.find(p => normalizeName(p.name) === normalizeName(projectName))!, options);
  // Only the sources of packages that are installed count.
  const installed = new Set([...reachable.hashed, ...reachable.unhashed]);
  const used = localSources.filter(l => [...installed].some(r => r.includes(fileUrl(l))));
  // A src-layout project is its own package: its code is importable only once the project is
  // installed (as uv sync does), not from the folder's src/. A flat project's files already
  // ship as the function's code, so it is not built a second time.
  const rootPackage = packages.find(p => normalizeName(p.name) === normalizeName(projectName))!;
  const rootFolder = rootPackage.source?.editable ?? rootPackage.source?.directory;
  if (rootFolder !== undefined && fs.existsSync(path.join(path.resolve(dir, rootFolder), 'src'))) {
    const { requirement, local } = uvRequirement(rootPackage, dir, file);
    return lockFileSpec('uv.lock', file, [file, pyproject], { hashed: reachable.hashed, unhashed: [...reachable.unhashed, requirement] },
      [...used, local!], warnings);
  }
  return lockFileSpec('uv.lock', file, [file, pyproject], reachable, used, warnings);
}

/**
 * A uv.lock is out of date when the project's `[project].dependencies` no longer match the
 * root package's `requires-dist` the lock recorded (`uv sync --locked` refuses then).
 */
function staleness(file: string, pyprojectFile: string, project: any, root: UvPackage, options: ReadOptions): ManifestWarning[] {
  const recorded = root.metadata?.['requires-dist'];
  const declared = project?.project?.dependencies;
  if (!Array.isArray(recorded) || !Array.isArray(declared)) return [];
  const canon = (name: string, extras: readonly string[] = [], specifier = '') =>
    `${normalizeName(name)}[${[...extras].map(normalizeName).sort().join(',')}]${canonicalSpecifier(specifier)}`;
  const inLock = new Set(recorded.map(r => canon(r.name, r.extras, r.specifier)));
  const inProject = new Set(declared.map((d: string) => {
    const edge = parsePep508(d);
    const spec = d.split(';')[0].replace(/^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?/, '').trim();
    return canon(edge.name, edge.extras, spec.startsWith('@') ? '' : spec);
  }));
  const added = [...inProject].filter(x => !inLock.has(x));
  const removed = [...inLock].filter(x => !inProject.has(x));
  if (added.length === 0 && removed.length === 0) return [];
  const message = `${file} is out of date with ${pyprojectFile}: ` +
    [added.length ? `the project asks for ${added.join(', ')}, which the lock does not record` : '',
      removed.length ? `the lock records ${removed.join(', ')}, which the project no longer asks for` : ''].filter(Boolean).join('; ') +
    '. The lock is installed as it is; run "uv lock" to update it.';
  if (options.strictLock) throw new Error(message.replace('The lock is installed as it is; run', 'Run'));
  return [{ id: 'possum-cdk:uvLockOutOfDate', message }];
}

function canonicalSpecifier(specifier: string): string {
  const trimmed = specifier.trim();
  if (!trimmed) return '';
  try {
    return parseSpecifierSet(trimmed).map(s => `${s.operator}${s.version}`).sort().join(',');
  } catch {
    return trimmed.replace(/\s+/g, '');
  }
}

function uvRequirement(p: UvPackage, dir: string, file: string): { requirement: string; hashed: boolean; local?: string } {
  const source = p.source ?? {};
  if (source.registry) {
    const hashes = [...(p.wheels ?? []).map(w => w.hash), p.sdist?.hash].filter((h): h is string => !!h);
    if (!p.version || hashes.length === 0) {
      throw new Error(`${file}: package ${p.name} from ${source.registry} has no version or no hashes; run "uv lock" again.`);
    }
    return { requirement: `${p.name}==${p.version}${hashes.map(h => ` --hash=${h}`).join('')}`, hashed: true };
  }
  if (source.git) {
    // uv records the exact commit after '#', and the subdirectory and ref as query parameters.
    const [url, commit] = source.git.split('#');
    const [base, query] = url.split('?');
    const subdirectory = new URLSearchParams(query ?? '').get('subdirectory');
    return {
      requirement: `${p.name} @ git+${base}${commit ? `@${commit}` : ''}${subdirectory ? `#subdirectory=${subdirectory}` : ''}`,
      hashed: false,
    };
  }
  const local = source.editable ?? source.directory ?? source.path ?? source.virtual;
  if (local !== undefined) {
    const location = path.resolve(dir, local);
    return { requirement: `${p.name} @ ${fileUrl(location)}`, hashed: false, local: location };
  }
  if (source.url) {
    const hash = p.sdist?.hash ?? p.wheels?.[0]?.hash;
    return { requirement: `${p.name} @ ${source.url}${hash ? ` --hash=${hash}` : ''}`, hashed: !!hash };
  }
  throw new Error(`${file}: package ${p.name} has a source uv.lock readers do not know (${JSON.stringify(source)}).`);
}

/** A uv workspace that lists `member` (a folder with a pyproject.toml): its root, and its lock if it has one. */
export interface UvWorkspace {
  readonly root: string;
  readonly lockFile?: string;
}

/**
 * The uv workspace `member` belongs to, if a parent folder's pyproject.toml declares one
 * (`[tool.uv.workspace] members`, glob patterns, minus `exclude`).
 */
export function findUvWorkspace(member: string): UvWorkspace | undefined {
  const memberAbs = path.resolve(member);
  for (let dir = path.dirname(memberAbs); ; dir = path.dirname(dir)) {
    const pyproject = path.join(dir, 'pyproject.toml');
    if (fs.existsSync(pyproject)) {
      let doc: any;
      try {
        doc = parseTomlFile(readText(pyproject), pyproject);
      } catch {
        doc = undefined;
      }
      const workspace = doc?.tool?.uv?.workspace;
      if (workspace) {
        const rel = path.relative(dir, memberAbs).split(path.sep).join('/');
        const matches = (patterns: unknown) => Array.isArray(patterns) && patterns.some(p => typeof p === 'string' && globMatches(p, rel));
        if (matches(workspace.members) && !matches(workspace.exclude)) {
          const lockFile = path.join(dir, 'uv.lock');
          return { root: dir, lockFile: fs.existsSync(lockFile) ? lockFile : undefined };
        }
        return undefined;
      }
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The members of the uv workspace rooted at `root`, by normalised project name. */
function workspaceMembers(root: string): Map<string, string> {
  const doc = parseTomlFile(readText(path.join(root, 'pyproject.toml')), path.join(root, 'pyproject.toml'));
  const members = new Map<string, string>();
  const rootName = doc?.project?.name;
  if (typeof rootName === 'string') members.set(normalizeName(rootName), root);
  const patterns: string[] = doc?.tool?.uv?.workspace?.members ?? [];
  const walk = (dir: string, rel: string, depth: number) => {
    if (depth > 4) return;
    for (const name of fs.readdirSync(dir)) {
      const abs = path.join(dir, name);
      if (name.startsWith('.') || name === 'node_modules' || !fs.statSync(abs).isDirectory()) continue;
      const relPath = rel ? `${rel}/${name}` : name;
      const pyproject = path.join(abs, 'pyproject.toml');
      if (patterns.some(p => globMatches(p, relPath)) && fs.existsSync(pyproject)) {
        try {
          const memberName = parseTomlFile(readText(pyproject), pyproject)?.project?.name;
          if (typeof memberName === 'string') members.set(normalizeName(memberName), abs);
        } catch {
          // not a project
        }
      }
      walk(abs, relPath, depth + 1);
    }
  };
  walk(root, '', 0);
  return members;
}

/**
 * The local folders a pyproject's `[tool.uv.sources]` installs from: `path` sources
 * (relative to the project) and `workspace = true` members of its workspace.
 */
export function uvSourcePaths(doc: any, projectDir: string): string[] {
  const sources: Record<string, any> = doc?.tool?.uv?.sources ?? {};
  const out: string[] = [];
  let members: Map<string, string> | undefined;
  for (const [name, value] of Object.entries(sources)) {
    for (const source of Array.isArray(value) ? value : [value]) {
      if (typeof source?.path === 'string') out.push(path.resolve(projectDir, source.path));
      if (source?.workspace === true) {
        const workspace = findUvWorkspace(projectDir);
        members ??= workspace ? workspaceMembers(workspace.root) : new Map();
        const member = members.get(normalizeName(name));
        if (!member) {
          throw new Error(`${path.join(projectDir, 'pyproject.toml')}: [tool.uv.sources] ${name} = { workspace = true }, but no member of ` +
            `${workspace ? `the workspace at ${workspace.root}` : 'a uv workspace (no parent pyproject.toml with [tool.uv.workspace] lists this project)'} ` +
            `is named ${name}. possum-cdk will not look for it on a package index (that could install someone else's package).`);
        }
        out.push(member);
      }
    }
  }
  return out;
}

/** A workspace `members` glob (`*`, `**`, `?`) against a `/`-separated relative path. */
function globMatches(pattern: string, rel: string): boolean {
  const re = pattern.replace(/\/+$/, '').split('').map((c, i, all) => {
    if (c === '*') return all[i + 1] === '*' ? '' : (all[i - 1] === '*' ? '.*' : '[^/]*');
    if (c === '?') return '[^/]';
    return c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }).join('');
  return new RegExp(`^${re}$`).test(rel);
}
