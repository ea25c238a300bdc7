import * as fs from 'fs';

// smol-toml ships CommonJS beside its ESM build, but its type declarations are ESM-only,
// which a CommonJS (jsii) compile cannot import; so it is required with a narrow type.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parseToml: (text: string) => unknown = require('smol-toml').parse;

/**
 * Reads a pyproject.toml and returns the project's name: `[project].name`, else
 * `[tool.poetry].name`.
 *
 * @throws Error naming the file when it is missing, is not valid TOML, or names no project.
 */
export function readProjectName(pyprojectFile: string): string {
  let text: string;
  try {
    text = fs.readFileSync(pyprojectFile, 'utf8');
  } catch {
    throw new Error(`${pyprojectFile} does not exist; pass the project's pyproject.toml with --project FILE.`);
  }
  let doc: any;
  try {
    doc = parseToml(text);
  } catch (e: any) {
    throw new Error(`${pyprojectFile} is not valid TOML: ${String(e?.message ?? e).split('\n')[0]}`);
  }
  const name = doc?.project?.name ?? doc?.tool?.poetry?.name;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new Error(`${pyprojectFile} has no [project].name or [tool.poetry].name; add the project's name there.`);
  }
  return name.trim();
}

/** The import name Python tools derive from a project name: `my-lib.core` -> `my_lib_core`. */
export function importNameOf(projectName: string): string {
  return projectName.replace(/[-.]+/g, '_');
}
