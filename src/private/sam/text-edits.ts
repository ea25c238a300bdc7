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
  const together = editAtOnce(parsed, edits);
  if (together !== undefined) return together;
  let text = parsed.text;
  for (const edit of edits) text = applySplice(text, spliceFor(parseForEdit(text), text, edit, parsed.file));
  const result = parseTemplate(text, parsed.file);
  if (!sameValue(result.value, applyEdits(parsed.value, edits, parsed.file))) {
    throw new Error(`${parsed.file}: the packaged template would not read as intended after editing it in place; ` +
      'please report this with the template (possum-cdk writes nothing when this happens).');
  }
  return text;
}

/** A stretch of the text to replace: `[start, end)` becomes `text`. */
interface Splice {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/**
 * Every edit placed from one parse of the text and spliced in from the end backwards, when
 * their places are apart. Parsing again after each edit cost O(edits x template size): 9 s
 * for a template of 300 functions. Undefined when two places touch or overlap (the edits
 * then depend on each other), when any edit cannot be placed, or when the result does not
 * read as intended: the edits are then made one at a time, which also gives the errors.
 */
function editAtOnce(parsed: ParsedTemplate, edits: readonly Edit[]): string | undefined {
  try {
    const doc = parseForEdit(parsed.text);
    const splices = edits.map(e => spliceFor(doc, parsed.text, e, parsed.file)).filter((x): x is Splice => x !== undefined)
      .sort((a, b) => a.start - b.start);
    for (let i = 1; i < splices.length; i++) {
      if (splices[i].start <= splices[i - 1].start || splices[i].start < splices[i - 1].end) return undefined;
    }
    let text = parsed.text;
    for (const s of [...splices].reverse()) text = applySplice(text, s);
    return sameValue(parseTemplate(text, parsed.file).value, applyEdits(parsed.value, edits, parsed.file)) ? text : undefined;
  } catch {
    return undefined;
  }
}

function parseForEdit(text: string): YAML.Document.Parsed {
  return YAML.parseDocument(text, { schema: 'failsafe', keepSourceTokens: true, strict: false });
}

function applySplice(text: string, s: Splice | undefined): string {
  return s ? `${text.slice(0, s.start)}${s.text}${text.slice(s.end)}` : text;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

/** Where and what to write in `text` (which `doc` is the parse of) for one edit. */
function spliceFor(doc: YAML.Document.Parsed, text: string, edit: Edit, file: string): Splice | undefined {
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
  return undefined;
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
function replaceValue(text: string, pair: YAML.Pair, value: unknown, file: string, at: string): Splice {
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
  return { start: colon + 1, end, text: ` ${anchor}${render(value)}` };
}

/** Adds `key: value` to a map: first in a block map (at its keys' indentation), or after `{` in a flow map. */
function insertPair(text: string, map: YAML.YAMLMap, key: string, value: unknown, file: string, at: string): Splice {
  if (map.flow) {
    const open = map.range![0];
    if (text[open] !== '{') throw new Error(`${file}: cannot find the '{' of ${at}.`);
    const entry = `${JSON.stringify(key)}: ${render(value)}${map.items.length > 0 ? ', ' : ''}`;
    return { start: open + 1, end: open + 1, text: entry };
  }
  const first = map.items[0]?.key as YAML.Scalar | undefined;
  if (!first?.range) throw new Error(`${file}: cannot find where to add ${key} in ${at}.`);
  const start = first.range[0];
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const indent = text.slice(lineStart, start);
  if (!/^[ \t]*$/.test(indent)) throw new Error(`${file}: cannot add ${key} to ${at}: its first key does not start a line.`);
  return { start, end: start, text: `${key}: ${render(value)}\n${indent}` };
}

function sortKeys(v: any): any {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map(k => [k, sortKeys(v[k])]));
  return v;
}
