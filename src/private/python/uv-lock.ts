import * as fs from 'fs';
import * as path from 'path';
import { parseTomlFile } from '../toml';
import { DependencySpec, lockFileSpec } from './dependency-spec';
import { LockedEdge, LockedNode, reachableRequirements } from './lock-graph';
import { normalizeName } from './markers';
import { markerEnvironment, PythonTarget } from './target';

interface UvDependency {
  readonly name: string;
  readonly version?: string;
  readonly marker?: string;
  readonly extra?: string[];
}

interface UvPackage {
  readonly 'name': string;
  readonly 'version'?: string;
  readonly 'source'?: Record<string, string>;
  readonly 'dependencies'?: UvDependency[];
  readonly 'optional-dependencies'?: Record<string, UvDependency[]>;
  readonly 'sdist'?: { hash?: string };
  readonly 'wheels'?: Array<{ hash?: string }>;
}

/**
 * uv.lock: installs the packages reachable from the project's main dependencies
 * (not its dev groups), pinned with the lock's wheel and sdist hashes.
 */
export function readUvLock(file: string, pyproject: string, target: PythonTarget): DependencySpec {
  const doc = parseTomlFile(fs.readFileSync(file, 'utf8'), file);
  if (!fs.existsSync(pyproject)) {
    throw new Error(`${file} needs the project's ${pyproject} beside it to know which package is the project.`);
  }
  const project = parseTomlFile(fs.readFileSync(pyproject, 'utf8'), pyproject);
  const projectName = project?.project?.name;
  if (typeof projectName !== 'string') {
    throw new Error(`${pyproject} has no [project].name, which uv.lock needs to find the project's own entry.`);
  }
  const packages: UvPackage[] = Array.isArray(doc.package) ? doc.package : [];
  const dir = path.dirname(file);
  const toEdge = (d: UvDependency): LockedEdge => ({ name: d.name, version: d.version, marker: d.marker, extras: d.extra ?? [] });
  const nodes: LockedNode[] = packages.map(p => {
    const name = normalizeName(p.name);
    const isRoot = name === normalizeName(projectName);
    const { requirement, hashed } = uvRequirement(p, dir, file);
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
  const root = nodes.find(n => n.isRoot);
  if (!root) {
    throw new Error(`${file} has no entry for the project ${projectName} named in ${pyproject}; run "uv lock" again.`);
  }
  return lockFileSpec('uv.lock', file, [file, pyproject], reachableRequirements(file, nodes, root.dependencies([]), markerEnvironment(target)));
}

function uvRequirement(p: UvPackage, dir: string, file: string): { requirement: string; hashed: boolean } {
  const source = p.source ?? {};
  if (source.registry) {
    const hashes = [...(p.wheels ?? []).map(w => w.hash), p.sdist?.hash].filter((h): h is string => !!h);
    if (!p.version || hashes.length === 0) {
      throw new Error(`${file}: package ${p.name} from ${source.registry} has no version or no hashes; run "uv lock" again.`);
    }
    return { requirement: `${p.name}==${p.version}${hashes.map(h => ` --hash=${h}`).join('')}`, hashed: true };
  }
  if (source.git) {
    // uv records the exact commit after '#'.
    const [url, commit] = source.git.split('#');
    const base = url.split('?')[0];
    return { requirement: `${p.name} @ git+${base}${commit ? `@${commit}` : ''}`, hashed: false };
  }
  const local = source.editable ?? source.directory ?? source.path ?? source.virtual;
  if (local !== undefined) {
    return { requirement: `${p.name} @ file://${path.resolve(dir, local)}`, hashed: false };
  }
  if (source.url) {
    const hash = p.sdist?.hash ?? p.wheels?.[0]?.hash;
    return { requirement: `${p.name} @ ${source.url}${hash ? ` --hash=${hash}` : ''}`, hashed: !!hash };
  }
  throw new Error(`${file}: package ${p.name} has a source uv.lock readers do not know (${JSON.stringify(source)}).`);
}
