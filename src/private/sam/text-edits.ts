import * as YAML from 'yaml';
import { applyEdits, Edit } from './packaging';
import { parseTemplate, ParsedTemplate } from './template';

/**
 * Edits a template's text in place: each edited value is spliced into the original text and
 * nothing else is touched, so comments, quoting, short-form tags, key order and every scalar
 * the edit does not name stay byte for byte (a YAML rewrite would turn `2012-10-17` into a
 * date, `N` into false, `'OFF'` into a bare boolean). New values are written as JSON, which
 * YAML and JSON readers read alike. A template written as JSON stays JSON.
 *
 * @throws Error naming the template and the path when a value cannot be placed (its parent
 * is an intrinsic function or an alias), and when the result would read differently from
 * the intended edits anywhere (a safety check, never expected)
 */
export function editTemplateText(parsed: ParsedTemplate, edits: readonly Edit[]): string {
  let text = parsed.text;
  for (const edit of edits) text = applyOne(text, edit, parsed.file);
  const result = parseTemplate(text, parsed.file);
  const expected = applyEdits(parsed.value, edits, parsed.file);
  if (JSON.stringify(sortKeys(result.value)) !== JSON.stringify(sortKeys(expected))) {
    throw new Error(`${parsed.file}: the packaged template would not read as intended after editing it in place; ` +
      'please report this with the template (possum-cdk writes nothing when this happens).');
  }
  return text;
}

function applyOne(text: string, edit: Edit, file: string): string {
  const doc = YAML.parseDocument(text, { schema: 'failsafe', keepSourceTokens: true, strict: false });
  let node: unknown = doc.contents;
  const where = (i: number) => edit.path.slice(0, i + 1).join('.');
  for (let i = 0; i < edit.path.length; i++) {
    const segment = edit.path[i];
    const last = i === edit.path.length - 1;
    if (YAML.isAlias(node)) throw new Error(`${file}: ${where(i - 1)} is an alias (*${node.source}); write it out in full so that ${edit.path.join('.')} can be set.`);
    if (YAML.isMap(node)) {
      const pair = node.items.find(p => YAML.isScalar(p.key) && String(p.key.value) === segment);
      if (!pair) return insertPair(text, node, segment, nested(edit.path.slice(i + 1), edit.value), file, where(i));
      if (last || isEmpty(pair.value)) return replaceValue(text, pair, nested(edit.path.slice(i + 1), edit.value), file, where(i));
      if (YAML.isScalar(pair.value) || (YAML.isCollection(pair.value) && pair.value.tag && pair.value.tag !== '!')) {
        throw new Error(`${file}: ${where(i)} is not a plain map, so ${edit.path.join('.')} cannot be set; write it as a map in the template.`);
      }
      node = pair.value;
    } else if (YAML.isSeq(node)) {
      const item = node.items[Number(segment)];
      if (item === undefined || last) throw new Error(`${file}: ${where(i)} does not exist or cannot be replaced.`);
      node = item;
    } else {
      throw new Error(`${file}: ${where(i - 1)} is not a map, so ${edit.path.join('.')} cannot be set.`);
    }
  }
  return text;
}

/** `{"a": {"b": value}}` for the rest of a path that does not exist yet. */
function nested(rest: readonly string[], value: unknown): unknown {
  return rest.reduceRight<unknown>((v, key) => ({ [key]: v }), value);
}

function isEmpty(node: unknown): boolean {
  return node === null || node === undefined || (YAML.isScalar(node) && node.type === 'PLAIN' && /^(|~|null|Null|NULL)$/.test(String(node.source ?? '')));
}

/** JSON text of a value: read alike by YAML (flow style) and JSON readers. */
function render(value: unknown): string {
  return JSON.stringify(value);
}

/** Replaces a pair's value (with its tag, not its anchor) by `value`. */
function replaceValue(text: string, pair: YAML.Pair, value: unknown, file: string, at: string): string {
  const key = pair.key as YAML.Scalar;
  const colon = text.indexOf(':', key.range![1]);
  if (colon < 0) throw new Error(`${file}: cannot find the ':' after ${at}.`);
  const valueNode = pair.value as any;
  let end: number;
  if (valueNode && valueNode.range) {
    end = valueNode.range[1];
  } else {
    // `Key:` with nothing after it: the value is the empty rest of the line.
    end = colon + 1;
  }
  const anchor = valueNode?.anchor ? `&${valueNode.anchor} ` : '';
  return `${text.slice(0, colon + 1)} ${anchor}${render(value)}${text.slice(end)}`;
}

/** Adds `key: value` to a map: first in a block map (at its keys' indentation), or after `{` in a flow map. */
function insertPair(text: string, map: YAML.YAMLMap, key: string, value: unknown, file: string, at: string): string {
  if (map.flow) {
    const open = map.range![0];
    if (text[open] !== '{') throw new Error(`${file}: cannot find the '{' of ${at}.`);
    const entry = `${JSON.stringify(key)}: ${render(value)}${map.items.length > 0 ? ', ' : ''}`;
    return `${text.slice(0, open + 1)}${entry}${text.slice(open + 1)}`;
  }
  const first = map.items[0]?.key as YAML.Scalar | undefined;
  if (!first?.range) throw new Error(`${file}: cannot find where to add ${key} in ${at}.`);
  const start = first.range[0];
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const indent = text.slice(lineStart, start);
  if (!/^[ \t]*$/.test(indent)) throw new Error(`${file}: cannot add ${key} to ${at}: its first key does not start a line.`);
  return `${text.slice(0, start)}${key}: ${render(value)}\n${indent}${text.slice(start)}`;
}

function sortKeys(v: any): any {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map(k => [k, sortKeys(v[k])]));
  return v;
}
