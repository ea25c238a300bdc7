import { evaluateMarker, normalizeName } from './markers';
import { satisfiesPoetry } from './pep440';

/** A package pinned by a lock file. */
export interface LockedNode {
  /** PEP 503-normalised name. */
  readonly name: string;
  readonly version: string;
  /** The requirement line that installs exactly this package. */
  readonly requirement: string;
  /** Whether `requirement` carries hashes (registry packages) or not (VCS, paths). */
  readonly hashed: boolean;
  /** Not installed itself (the project the lock belongs to), but its dependencies are. */
  readonly isRoot: boolean;
  /** Where the lock says this package applies (poetry.lock 2.1 `markers`), if it says. */
  readonly marker?: string;
  /** The package's own Python constraint in Poetry syntax (poetry.lock `python-versions`). */
  readonly pythonVersions?: string;
  /** Dependencies, with the extras active for this package. */
  dependencies(extras: readonly string[]): LockedEdge[];
}

export interface LockedEdge {
  readonly name: string;
  /** The exact version this edge wants (uv.lock names it when a lock pins several versions of one name). */
  readonly version?: string;
  /** A Poetry constraint on the version (poetry.lock): chooses among several locked versions. */
  readonly poetryConstraint?: string;
  /** A Poetry constraint on the Python version (`python = "<3.10"`): the edge holds only there. */
  readonly pythonConstraint?: string;
  readonly marker?: string;
  readonly extras: readonly string[];
}

export interface WalkOptions {
  /** The target's Python version, for edges with a `pythonConstraint`. */
  readonly pythonVersion?: string;
}

/**
 * Walks a lock from the project's own dependencies, keeping the edges whose markers hold
 * on the target, and returns the requirement lines to install (hashed, unhashed).
 */
export function reachableRequirements(file: string, nodes: readonly LockedNode[], roots: readonly LockedEdge[],
  env: Record<string, string>, options: WalkOptions = {}): { hashed: string[]; unhashed: string[] } {
  const byName = new Map<string, LockedNode[]>();
  for (const n of nodes) byName.set(n.name, [...(byName.get(n.name) ?? []), n]);
  const activeExtras = new Map<LockedNode, Set<string>>();
  const queue: Array<{ edge: LockedEdge; parentExtras: readonly string[] }> = roots.map(edge => ({ edge, parentExtras: [] }));
  while (queue.length) {
    const { edge, parentExtras } = queue.shift()!;
    if (edge.marker && !evaluateMarker(edge.marker, env, parentExtras)) continue;
    if (edge.pythonConstraint && options.pythonVersion && !satisfiesPoetry(options.pythonVersion, edge.pythonConstraint)) continue;
    const named = byName.get(normalizeName(edge.name)) ?? [];
    let candidates = named.filter(n => !edge.version || n.version === edge.version);
    if (candidates.length > 1) candidates = chooseAmong(candidates, edge, env, options, [...activeExtras.keys()]);
    if (candidates.length === 0) {
      if (named.length > 0) {
        throw new Error(`${file} pins ${edge.name} ${named.map(n => n.version).join(', ')}, but a dependency edge asks for ` +
          `${edge.version ?? edge.poetryConstraint}; regenerate the lock.`);
      }
      throw new Error(`${file} lists ${edge.name} as a dependency but has no package entry for it; regenerate the lock.`);
    }
    if (candidates.length > 1) {
      throw new Error(
        `${file} pins several versions of ${edge.name} (${candidates.map(c => c.version).join(', ')}) for different environments, ` +
        'and neither the dependency edge\'s constraint nor its markers say which one the target needs; regenerate the lock.');
    }
    const node = candidates[0];
    const known = activeExtras.get(node);
    const newExtras = edge.extras.filter(x => !known?.has(x));
    if (known && newExtras.length === 0) continue;
    const extras = new Set([...(known ?? []), ...edge.extras]);
    activeExtras.set(node, extras);
    for (const dep of node.dependencies([...extras])) queue.push({ edge: dep, parentExtras: [...extras] });
  }
  const chosen = [...activeExtras.keys()].filter(n => !n.isRoot).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    hashed: chosen.filter(n => n.hashed).map(n => n.requirement),
    unhashed: chosen.filter(n => !n.hashed).map(n => n.requirement),
  };
}

/**
 * Narrows several locked versions of one package to the one an edge needs, as `poetry
 * export` does: the edge's constraint; the package's own markers (poetry.lock 2.1) and
 * Python constraint for the target; a version already chosen; then the first in the lock.
 */
function chooseAmong(candidates: LockedNode[], edge: LockedEdge, env: Record<string, string>, options: WalkOptions,
  chosen: readonly LockedNode[]): LockedNode[] {
  const steps: Array<(n: LockedNode) => boolean> = [
    // The edge's own constraint decides first: an empty result is a lock that does not match.
    n => !edge.poetryConstraint || satisfiesPoetry(n.version, edge.poetryConstraint),
    n => !n.marker || evaluateMarker(n.marker, env),
    n => !n.pythonVersions || !options.pythonVersion || satisfiesPoetry(options.pythonVersion, n.pythonVersions),
  ];
  let left = candidates.filter(steps[0]);
  for (const keep of steps.slice(1)) {
    // The lock's own markers and Python constraints only narrow; they never rule out every candidate.
    const narrowed = left.filter(keep);
    if (narrowed.length > 0) left = narrowed;
  }
  if (left.length === 0) return left;
  const already = left.filter(n => chosen.includes(n));
  if (already.length === 1) return already;
  return left.slice(0, 1);
}

/** Splits a PEP 508 requirement string into name, extras and marker (the version part is not needed). */
export function parsePep508(requirement: string): LockedEdge {
  const [spec, ...markerParts] = requirement.split(';');
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?/.exec(spec);
  if (!m) throw new Error(`Cannot read the requirement ${JSON.stringify(requirement)}.`);
  const marker = markerParts.join(';').trim();
  return {
    name: m[1],
    extras: m[2] ? m[2].split(',').map(x => x.trim()).filter(Boolean) : [],
    marker: marker || undefined,
  };
}
