import * as fs from 'fs';
import { parseTomlFile } from './toml';

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
  const doc = parseTomlFile(text, pyprojectFile);
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
