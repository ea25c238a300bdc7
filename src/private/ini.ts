/**
 * Python's configparser, as pip reads pip.conf and the AWS CLI its config file: `[section]`
 * headers, `key = value` or `key: value`, indented continuation lines, `#`/`;` comment
 * lines. Keys are lower-cased.
 */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section: Record<string, string> | undefined;
  let lastKey: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*([#;].*)?$/.test(raw)) continue;
    if (/^\s/.test(raw) && section && lastKey !== undefined) {
      section[lastKey] = `${section[lastKey]}\n${raw.trim()}`;
      continue;
    }
    const header = /^\[([^\]]+)\]/.exec(raw);
    if (header) {
      section = out[header[1].trim()] ??= {};
      lastKey = undefined;
      continue;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (kv && section) {
      lastKey = kv[1].trim().toLowerCase();
      section[lastKey] = kv[2].trim();
    }
  }
  return out;
}
