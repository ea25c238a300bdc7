import { satisfies, satisfiesPoetry } from './pep440';
import { PythonTarget } from './target';

/** Things every manifest reader needs about the project a manifest belongs to. */

/**
 * The project's own Python requirement (`[project].requires-python`, Poetry's
 * `python = "^3.x"`) must admit the runtime: uv and Poetry refuse to install otherwise.
 */
export function checkProjectPython(doc: any, file: string, target: PythonTarget, lockConstraint?: { value: string; from: string; poetry?: boolean }) {
  const checks: Array<{ value: string; from: string; ok: (v: string) => boolean }> = [];
  const pep621 = doc?.project?.['requires-python'];
  if (typeof pep621 === 'string') checks.push({ value: pep621, from: `${file} [project].requires-python`, ok: v => satisfies(v, pep621, { prereleases: true }) });
  const poetry = doc?.tool?.poetry?.dependencies?.python;
  if (typeof poetry === 'string') checks.push({ value: poetry, from: `${file} [tool.poetry.dependencies].python`, ok: v => satisfiesPoetry(v, poetry) });
  if (lockConstraint) {
    checks.push({
      ...lockConstraint,
      ok: v => lockConstraint.poetry ? satisfiesPoetry(v, lockConstraint.value) : satisfies(v, lockConstraint.value, { prereleases: true }),
    });
  }
  for (const c of checks) {
    let ok: boolean;
    try {
      ok = c.ok(target.pythonVersion);
    } catch (e: any) {
      throw new Error(`${c.from} = "${c.value}" cannot be read: ${e.message}`);
    }
    if (!ok) {
      throw new Error(`${c.from} = "${c.value}" excludes the function's runtime ${target.runtime} (Python ${target.pythonVersion}); ` +
        'uv and Poetry refuse to install the project for it too. Run the function on a runtime the project supports, or widen the constraint.');
    }
  }
}

/** A `file://` URL for an absolute path (spaces and other bytes percent-encoded). */
export function fileUrl(absolutePath: string): string {
  return `file://${absolutePath.split('/').map(encodeURIComponent).join('/')}`;
}

