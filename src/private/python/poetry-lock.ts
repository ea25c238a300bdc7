import * as fs from 'fs';
import * as path from 'path';
import { parseTomlFile } from '../toml';
import { DependencySpec, lockFileSpec } from './dependency-spec';
import { LockedEdge, LockedNode, parsePep508, reachableRequirements } from './lock-graph';
import { normalizeName } from './markers';
import { markerEnvironment, PythonTarget } from './target';

type PoetryDependencySpec = string | { version?: string; markers?: string; optional?: boolean; extras?: string[] } |
Array<{ version?: string; markers?: string; optional?: boolean; extras?: string[] }>;

interface PoetryPackage {
  readonly name: string;
  readonly version: string;
  readonly files?: Array<{ file?: string; hash?: string }>;
  readonly dependencies?: Record<string, PoetryDependencySpec>;
  readonly extras?: Record<string, string[]>;
  readonly source?: { type?: string; url?: string; reference?: string; resolved_reference?: string };
}

/**
 * poetry.lock: installs the packages reachable from the project's main dependencies
 * (`[tool.poetry.dependencies]` or `[project].dependencies`; not groups), pinned with
 * the lock's file hashes.
 */
export function readPoetryLock(file: string, pyproject: string, target: PythonTarget): DependencySpec {
  const doc = parseTomlFile(fs.readFileSync(file, 'utf8'), file);
  if (!fs.existsSync(pyproject)) {
    throw new Error(`${file} needs the project's ${pyproject} beside it for the project's own dependencies.`);
  }
  const project = parseTomlFile(fs.readFileSync(pyproject, 'utf8'), pyproject);
  const packages: PoetryPackage[] = Array.isArray(doc.package) ? doc.package : [];
  const dir = path.dirname(file);

  const nodes: LockedNode[] = packages.map(p => {
    const { requirement, hashed } = poetryRequirement(p, dir, file);
    return {
      name: normalizeName(p.name),
      version: p.version,
      requirement,
      hashed,
      isRoot: false,
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
  for (const req of (project?.project?.dependencies ?? []) as string[]) roots.push(parsePep508(req));

  return lockFileSpec('poetry.lock', file, [file, pyproject], reachableRequirements(file, nodes, roots, markerEnvironment(target)));
}

/** Edges for one dependency entry; optional ones count only when an active extra asks for them. */
function poetryEdges(name: string, spec: PoetryDependencySpec, enabledByExtra: boolean): LockedEdge[] {
  const specs = Array.isArray(spec) ? spec : [spec];
  return specs.flatMap((s): LockedEdge[] => {
    if (typeof s === 'string') return [{ name, extras: [] }];
    if (s.optional && !enabledByExtra) return [];
    return [{ name, marker: s.markers, extras: s.extras ?? [] }];
  });
}

function poetryRequirement(p: PoetryPackage, dir: string, file: string): { requirement: string; hashed: boolean } {
  const source = p.source;
  if (!source || source.type === 'legacy') {
    const hashes = (p.files ?? []).map(f => f.hash).filter((h): h is string => !!h);
    if (hashes.length === 0) {
      throw new Error(`${file}: package ${p.name} ${p.version} has no file hashes; run "poetry lock" again.`);
    }
    return { requirement: `${p.name}==${p.version}${hashes.map(h => ` --hash=${h}`).join('')}`, hashed: true };
  }
  if (source.type === 'git') {
    return { requirement: `${p.name} @ git+${source.url}@${source.resolved_reference ?? source.reference}`, hashed: false };
  }
  if (source.type === 'directory' || source.type === 'file') {
    return { requirement: `${p.name} @ file://${path.resolve(dir, source.url ?? '.')}`, hashed: false };
  }
  if (source.type === 'url') {
    return { requirement: `${p.name} @ ${source.url}`, hashed: false };
  }
  throw new Error(`${file}: package ${p.name} has a source of type ${source.type}, which possum-cdk cannot install.`);
}
