import * as fs from 'fs';
import * as YAML from 'yaml';

/**
 * Reads a CloudFormation/SAM template the way the SAM CLI does (samcli yamlhelper): JSON
 * when the text is JSON, else YAML with PyYAML's YAML 1.1 rules for plain scalars
 * (`yes`/`no`/`on`/`off` are booleans, `y`/`N` are strings, `010` is 8, `3.0` is a float,
 * `1e3` is a string, `~` is null) except that dates stay strings, `<<` merges, and
 * short-form tags become intrinsics (`!Ref X` -> {"Ref": "X"}, `!GetAtt A.B.C` ->
 * {"Fn::GetAtt": ["A", "B.C"]}, any other `!Name` -> {"Fn::Name": ...}) whose scalar is
 * never type-resolved.
 *
 * The result keeps the source: the YAML document (every scalar as text) for edits that
 * change nothing else (the possum CLI), and the JSON text of numbers that a JavaScript
 * number would change (`3.0` would print as `3`) for templates written as JSON (the construct).
 */
export interface ParsedTemplate {
  readonly file: string;
  readonly text: string;
  readonly format: 'json' | 'yaml';
  /** The template as SAM reads it. */
  readonly value: any;
  /** JSON pointer -> JSON text, for numbers whose JavaScript form would print differently. */
  readonly rawNumbers: ReadonlyMap<string, string>;
  /** Every scalar kept as text, with source ranges: for in-place edits. */
  readonly document: YAML.Document.Parsed;
}

/** Most nodes an alias may expand to: a template is never this large, an alias bomb is. */
const MAX_NODES = 1_000_000;

const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const FLOAT = /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const NULL = /^(?:~|null|Null|NULL|)$/;
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/;

/**
 * Parses template text.
 * @throws Error naming the file, line and column of a syntax error, or what is wrong
 */
export function parseTemplate(text: string, file: string): ParsedTemplate {
  const format = isJson(text) ? 'json' : 'yaml';
  const document = YAML.parseDocument(text, { schema: 'failsafe', uniqueKeys: true, prettyErrors: true, keepSourceTokens: true, strict: false });
  if (document.errors.length > 0) {
    const e = document.errors[0];
    const where = e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new Error(`${file} is not a valid template${where}: ${e.message.split('\n')[0]}`);
  }
  const rawNumbers = new Map<string, string>();
  const converter = new Converter(file, text, format, rawNumbers, document);
  const value = converter.node(document.contents, '');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${file} is not a template: its top level is not a map.`);
  }
  if (typeof value.Resources !== 'object' || value.Resources === null || Array.isArray(value.Resources)) {
    throw new Error(`${file} has no Resources section.`);
  }
  return { file, text, format, value, rawNumbers, document };
}

export function readTemplate(file: string): ParsedTemplate {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    throw new Error(`Template ${file} does not exist; check the template path.`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw new Error(`${file} is not UTF-8 text; save the template as UTF-8.`);
  }
  return parseTemplate(text, file);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A JSON pointer segment. */
export function pointerSegment(key: string | number): string {
  return String(key).replace(/~/g, '~0').replace(/\//g, '~1');
}

class Converter {
  private nodes = 0;
  private readonly expanding = new Set<unknown>();

  constructor(private readonly file: string, private readonly text: string, private readonly format: 'json' | 'yaml',
    private readonly rawNumbers: Map<string, string>, private readonly document: YAML.Document) {}

  public node(node: unknown, pointer: string): any {
    if (++this.nodes > MAX_NODES) {
      throw new Error(`${this.file} expands to more than ${MAX_NODES} values (an alias that repeats itself many times); write the template without it.`);
    }
    if (node === null || node === undefined) return null;
    if (YAML.isAlias(node)) {
      const target = node.resolve(this.document);
      if (!target) throw new Error(`${this.file}: alias *${node.source} at ${this.where(node)} names no anchor.`);
      if (this.expanding.has(target)) throw new Error(`${this.file}: alias *${node.source} at ${this.where(node)} refers to a node that contains it; a template cannot be infinite.`);
      this.expanding.add(target);
      try {
        return this.node(target, pointer);
      } finally {
        this.expanding.delete(target);
      }
    }
    if (YAML.isScalar(node)) return this.scalar(node, pointer);
    if (YAML.isMap(node)) return this.tagged(node, this.map(node, pointer), pointer);
    if (YAML.isSeq(node)) return this.tagged(node, node.items.map((item, i) => this.node(item, `${pointer}/${i}`)), pointer);
    throw new Error(`${this.file}: unexpected YAML node at ${this.where(node)}.`);
  }

  private map(node: YAML.YAMLMap, pointer: string): Record<string, any> {
    const out: Record<string, any> = {};
    const merges: Array<Record<string, any>> = [];
    for (const pair of node.items) {
      const keyNode = pair.key;
      if (this.format === 'yaml' && YAML.isScalar(keyNode) && keyNode.type === 'PLAIN' && keyNode.value === '<<' && !keyNode.tag) {
        const merged = this.node(pair.value, pointer);
        for (const m of Array.isArray(merged) ? merged : [merged]) {
          if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new Error(`${this.file}: a << merge at ${this.where(keyNode)} must name maps.`);
          merges.push(m);
        }
        continue;
      }
      const key = jsonKey(YAML.isScalar(keyNode) ? this.scalar(keyNode, '') : this.node(keyNode, ''));
      out[key] = this.node(pair.value, `${pointer}/${pointerSegment(key)}`);
    }
    // Keys of the map itself win over merged ones, earlier merges over later ones (PyYAML).
    return merges.length ? Object.assign({}, ...[...merges].reverse(), out) : out;
  }

  /** Wraps a collection in the intrinsic its short-form tag names. */
  private tagged(node: YAML.YAMLMap | YAML.YAMLSeq, value: unknown, pointer: string): any {
    const tag = node.tag;
    // `!` alone is YAML's non-specific tag: the node is read as it is.
    if (!tag || tag === '!' || !tag.startsWith('!') || tag.startsWith('!!') || tag.startsWith('tag:')) return value;
    return intrinsic(tag.slice(1), value, pointer, this.rawNumbers);
  }

  private scalar(node: YAML.Scalar, pointer: string): any {
    const text = String(node.source ?? node.value ?? '');
    const tag = node.tag;
    if (tag === '!') return text;
    if (tag && tag.startsWith('!') && !tag.startsWith('!!')) {
      // SAM constructs a tagged scalar as a string: `!Ref 3` is {"Ref": "3"}.
      return intrinsic(tag.slice(1), text, pointer, this.rawNumbers);
    }
    if (tag === 'tag:yaml.org,2002:str' || tag === '!!str') return text;
    if (node.type !== 'PLAIN') return text;
    return this.format === 'json' ? this.jsonScalar(text, pointer) : this.yamlScalar(text, pointer, node);
  }

  private jsonScalar(text: string, pointer: string): any {
    if (text === 'true') return true;
    if (text === 'false') return false;
    if (text === 'null') return null;
    const m = JSON_NUMBER.exec(text);
    if (!m) return text;
    if (m[1] || m[2]) return this.float(Number(text), pointer);
    return this.int(BigInt(text), pointer);
  }

  private yamlScalar(text: string, pointer: string, node: YAML.Scalar): any {
    if (BOOL.test(text)) return /^(yes|true|on)$/i.test(text);
    if (FLOAT.test(text) && /[-+0-9.]/.test(text[0])) {
      const t = text.replace(/_/g, '').toLowerCase();
      if (t.endsWith('.inf') || t.endsWith('.nan')) {
        throw new Error(`${this.file}: ${text} at ${this.where(node)} is a YAML ${t.endsWith('nan') ? 'NaN' : 'infinity'}, which a CloudFormation template cannot carry; quote it if you mean text.`);
      }
      return this.float(t.includes(':') ? sexagesimal(t, true) : Number(t), pointer);
    }
    if (INT.test(text) && /[-+0-9]/.test(text[0])) return this.int(pyInt(text), pointer);
    if (NULL.test(text)) return null;
    return text;
  }

  /** A float, remembering Python's spelling when JavaScript's differs (3.0 is "3.0", not "3"). */
  private float(value: number, pointer: string): number {
    if (pointer && Number.isInteger(value)) this.rawNumbers.set(pointer, Math.abs(value) < 1e16 ? `${value}.0` : value.toExponential());
    return value;
  }

  private int(value: bigint, pointer: string): number {
    const n = Number(value);
    if (pointer && !Number.isSafeInteger(n)) this.rawNumbers.set(pointer, value.toString());
    return n;
  }

  private where(node: any): string {
    const offset = node?.range?.[0];
    if (typeof offset !== 'number') return 'an unknown place';
    const before = this.text.slice(0, offset);
    return `line ${before.split('\n').length}, column ${offset - before.lastIndexOf('\n')}`;
  }
}

/** Short-form tag -> long-form intrinsic, as the SAM CLI constructs it. */
function intrinsic(name: string, value: unknown, pointer: string, rawNumbers: Map<string, string>): any {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  if (name === 'GetAtt' && typeof value === 'string') {
    const dot = value.indexOf('.');
    return { [key]: dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
  }
  // Raw numbers inside moved one level down.
  for (const [p, raw] of [...rawNumbers]) {
    if (pointer && p.startsWith(`${pointer}/`) && !p.startsWith(`${pointer}/${pointerSegment(key)}/`)) {
      rawNumbers.delete(p);
      rawNumbers.set(`${pointer}/${pointerSegment(key)}${p.slice(pointer.length)}`, raw);
    }
  }
  return { [key]: value };
}

/** A JSON object key as json.dumps writes a Python key: True -> "true", 3.0 -> "3.0", None -> "null". */
function jsonKey(key: unknown): string {
  if (key === null || key === undefined) return 'null';
  if (typeof key === 'boolean') return key ? 'true' : 'false';
  if (typeof key === 'number') return String(key);
  if (typeof key === 'string') return key;
  return JSON.stringify(key);
}

/** PyYAML's int: underscores, 0b binary, 0x hex, leading-0 octal, base-60 with colons. */
function pyInt(text: string): bigint {
  let t = text.replace(/_/g, '');
  let sign = BigInt(1);
  if (t[0] === '-') sign = BigInt(-1);
  if (t[0] === '-' || t[0] === '+') t = t.slice(1);
  if (t === '0') return BigInt(0);
  if (t.startsWith('0b')) return sign * BigInt(t);
  if (t.startsWith('0x')) return sign * BigInt(t);
  if (t.startsWith('0')) return sign * BigInt(`0o${t.slice(1)}`);
  if (t.includes(':')) return sign * BigInt(sexagesimal(t, false));
  return sign * BigInt(t);
}

function sexagesimal(text: string, float: boolean): number {
  const sign = text.startsWith('-') ? -1 : 1;
  const parts = text.replace(/^[-+]/, '').split(':').map(Number);
  let value = 0;
  for (const p of parts) value = value * 60 + p;
  return float ? sign * value : sign * Math.trunc(value);
}
