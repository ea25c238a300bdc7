/**
 * smol-toml ships CommonJS beside its ESM build, but its type declarations are ESM-only,
 * which a CommonJS (jsii) compile cannot import; so it is required with a narrow type.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const parseToml: (text: string) => unknown = require('smol-toml').parse;

/** Parses TOML text read from `file`; the error names the file and the first line of the cause. */
export function parseTomlFile(text: string, file: string): any {
  try {
    return parseToml(text);
  } catch (e: any) {
    throw new Error(`${file} is not valid TOML: ${String(e?.message ?? e).split('\n')[0]}`);
  }
}
