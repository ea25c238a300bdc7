import { evaluateMarker, normalizeName } from './markers';

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
  /** Dependencies, with the extras active for this package. */
  dependencies(extras: readonly string[]): LockedEdge[];
}

export interface LockedEdge {
  readonly name: string;
  /** Set when a lock pins several versions of one name. */
  readonly version?: string;
  readonly marker?: string;
  readonly extras: readonly string[];
}

/**
 * Walks a lock from the project's own dependencies, keeping the edges whose markers hold
 * on the target, and returns the requirement lines to install (hashed, unhashed).
 */
export function reachableRequirements(file: string, nodes: readonly LockedNode[], roots: readonly LockedEdge[],
  env: Record<string, string>): { hashed: string[]; unhashed: string[] } {
  const byName = new Map<string, LockedNode[]>();
  for (const n of nodes) byName.set(n.name, [...(byName.get(n.name) ?? []), n]);
  const activeExtras = new Map<LockedNode, Set<string>>();
  const queue: Array<{ edge: LockedEdge; parentExtras: readonly string[] }> = roots.map(edge => ({ edge, parentExtras: [] }));
  while (queue.length) {
    const { edge, parentExtras } = queue.shift()!;
    if (edge.marker && !evaluateMarker(edge.marker, env, parentExtras)) continue;
    const candidates = (byName.get(normalizeName(edge.name)) ?? []).filter(n => !edge.version || n.version === edge.version);
    if (candidates.length === 0) {
      throw new Error(`${file} lists ${edge.name} as a dependency but has no package entry for it; regenerate the lock.`);
    }
    if (candidates.length > 1) {
      throw new Error(
        `${file} pins several versions of ${edge.name} (${candidates.map(c => c.version).join(', ')}) for different environments, ` +
        'and the dependency edge does not say which; regenerate the lock or use requirements.txt.');
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
