import * as fs from 'fs';
import * as path from 'path';
import { parseTomlFile } from '../toml';
import { DependencySpec, lockFileSpec } from './dependency-spec';
import { LockedEdge, LockedNode, parsePep508, reachableRequirements } from './lock-graph';
import { normalizeName } from './markers';
import { checkProjectPython, fileUrl } from './project';
import { readText } from './requirements-file';
import { markerEnvironment, PythonTarget } from './target';

interface PoetryConstraintTable {
  readonly version?: string;
  readonly markers?: string;
  readonly python?: string;
  readonly platform?: string;
  readonly optional?: boolean;
  readonly extras?: string[];
}

type PoetryDependencySpec = string | PoetryConstraintTable | PoetryConstraintTable[];

interface PoetryPackage {
  readonly 'name': string;
  readonly 'version': string;
  readonly 'markers'?: string | Record<string, string>;
  readonly 'python-versions'?: string;
  readonly 'files'?: Array<{ file?: string; hash?: string }>;
  readonly 'dependencies'?: Record<string, PoetryDependencySpec>;
  readonly 'extras'?: Record<string, string[]>;
  readonly 'source'?: { type?: string; url?: string; reference?: string; resolved_reference?: string; subdirectory?: string };
}

/**
 * poetry.lock (lock-version 1.x and 2.x): installs the packages reachable from the
 * project's main dependencies (`[tool.poetry.dependencies]` and `[project].dependencies`;
 * not groups), pinned with the lock's file hashes. Where the lock pins several versions of
 * one package, the constraint and markers on each dependency edge choose, as `poetry
 * export` does.
 */
export function readPoetryLock(file: string, pyproject: string, target: PythonTarget): DependencySpec {
  const doc = parseTomlFile(readText(file), file);
  if (!fs.existsSync(pyproject)) {
    throw new Error(`${file} needs the project's ${pyproject} beside it for the project's own dependencies.`);
  }
  const project = parseTomlFile(readText(pyproject), pyproject);
  const lockPython = doc.metadata?.['python-versions'];
  checkProjectPython(project, pyproject, target,
    typeof lockPython === 'string' && lockPython.trim() !== '*' ? { value: lockPython, from: `${file} [metadata] python-versions`, poetry: true } : undefined);
  const packages: PoetryPackage[] = Array.isArray(doc.package) ? doc.package : [];
  const dir = path.dirname(file);
  // Lock format 1.x keeps the file hashes apart, by package name.
  const legacyFiles: Record<string, Array<{ file?: string; hash?: string }>> = doc.metadata?.files ?? {};

  const localSources: string[] = [];
  const nodes: LockedNode[] = packages.map(p => {
    const files = p.files ?? legacyFiles[p.name] ?? legacyFiles[normalizeName(p.name)] ?? [];
    const { requirement, hashed, local } = poetryRequirement(p, files, dir, file);
    if (local) localSources.push(local);
    return {
      name: normalizeName(p.name),
      version: p.version,
      requirement,
      hashed,
      isRoot: false,
      // poetry.lock 2.1 writes where a package applies, per group; the main group is what is installed.
      marker: typeof p.markers === 'string' ? p.markers : p.markers?.main,
      pythonVersions: p['python-versions'],
      dependencies: (extras: readonly string[]) => {
        const extraNames = new Set(extras.flatMap(x => (p.extras?.[x] ?? []).map(r => normalizeName(parsePep508(r).name))));
        return Object.entries(p.dependencies ?? {}).flatMap(([name, spec]) => poetryEdges(name, spec, extraNames.has(normalizeName(name))));
      },
    };
  });

  const roots: LockedEdge[] = [];
  const poetryDeps: Record<string, PoetryDependencySpec> = project?.tool?.poetry?.dependencies ?? {};
  for (const [name, spec] of Object.entries(poetryDeps)) {
    if (name.toLowerCase() === 'python') continue;
    roots.push(...poetryEdges(name, spec, false));
  }
  for (const req of (project?.project?.dependencies ?? []) as string[]) {
    // Poetry 2 lets [tool.poetry.dependencies] refine a [project] dependency; the refined edge is already there.
    const edge = parsePep508(req);
    if (!roots.some(r => normalizeName(r.name) === normalizeName(edge.name))) roots.push(edge);
  }
  const reachable = reachableRequirements(file, nodes, roots, markerEnvironment(target), { pythonVersion: target.pythonVersion });
  const installed = [...reachable.hashed, ...reachable.unhashed].join('\n');
  return lockFileSpec('poetry.lock', file, [file, pyproject], reachable, localSources.filter(l => installed.includes(fileUrl(l))));
}

/**
 * Edges for one dependency entry. A string or `version` is a Poetry constraint that picks
 * among several locked versions; `python` and `platform` restrict the edge like markers;
 * optional entries count only when an active extra asks for them.
 */
function poetryEdges(name: string, spec: PoetryDependencySpec, enabledByExtra: boolean): LockedEdge[] {
  const specs = Array.isArray(spec) ? spec : [spec];
  return specs.flatMap((s): LockedEdge[] => {
    if (typeof s === 'string') return [{ name, extras: [], poetryConstraint: s }];
    if (s.optional && !enabledByExtra) return [];
    const markers = [s.markers, s.platform ? `sys_platform == "${s.platform}"` : undefined].filter((m): m is string => !!m);
    return [{
      name,
      marker: markers.length ? markers.map(m => `(${m})`).join(' and ') : undefined,
      pythonConstraint: s.python,
      poetryConstraint: s.version,
      extras: s.extras ?? [],
    }];
  });
}

function poetryRequirement(p: PoetryPackage, files: Array<{ file?: string; hash?: string }>, dir: string, file: string):
{ requirement: string; hashed: boolean; local?: string } {
  const source = p.source;
  if (!source || source.type === 'legacy') {
    const hashes = files.map(f => f.hash).filter((h): h is string => !!h);
    if (hashes.length === 0) {
      throw new Error(`${file}: package ${p.name} ${p.version} has no file hashes (neither in its [[package]] entry nor under ` +
        '[metadata.files]); run "poetry lock" again.');
    }
    return { requirement: `${p.name}==${p.version}${hashes.map(h => ` --hash=${h}`).join('')}`, hashed: true };
  }
  if (source.type === 'git') {
    const sub = source.subdirectory ? `#subdirectory=${source.subdirectory}` : '';
    return { requirement: `${p.name} @ git+${source.url}@${source.resolved_reference ?? source.reference}${sub}`, hashed: false };
  }
  if (source.type === 'directory' || source.type === 'file') {
    const location = path.resolve(dir, source.url ?? '.');
    return { requirement: `${p.name} @ ${fileUrl(location)}`, hashed: false, local: location };
  }
  if (source.type === 'url') {
    return { requirement: `${p.name} @ ${source.url}`, hashed: false };
  }
  throw new Error(`${file}: package ${p.name} has a source of type ${source.type}, which possum-cdk cannot install.`);
}
