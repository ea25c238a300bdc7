import * as fs from 'fs';
import * as YAML from 'yaml';

/**
 * Reads a CloudFormation/SAM template (JSON or YAML) into plain data, with YAML's
 * short-form intrinsics (`!Ref X`, `!GetAtt A.B`, `!Sub ...`) turned into their long
 * form (`{"Ref": "X"}`, `{"Fn::GetAtt": ["A", "B"]}`, `{"Fn::Sub": ...}`).
 */

/** Short-form tags and the long-form key each stands for. */
const SHORT_FORMS: Record<string, string> = {
  Ref: 'Ref',
  Condition: 'Condition',
  Base64: 'Fn::Base64',
  Cidr: 'Fn::Cidr',
  FindInMap: 'Fn::FindInMap',
  GetAtt: 'Fn::GetAtt',
  GetAZs: 'Fn::GetAZs',
  ImportValue: 'Fn::ImportValue',
  Join: 'Fn::Join',
  Select: 'Fn::Select',
  Split: 'Fn::Split',
  Sub: 'Fn::Sub',
  Transform: 'Fn::Transform',
  And: 'Fn::And',
  Equals: 'Fn::Equals',
  If: 'Fn::If',
  Not: 'Fn::Not',
  Or: 'Fn::Or',
  ToJsonString: 'Fn::ToJsonString',
  Length: 'Fn::Length',
};

function longForm(tag: string, key: string, value: unknown): unknown {
  // `!GetAtt Resource.Attribute` is the one short form whose scalar splits.
  if (tag === 'GetAtt' && typeof value === 'string') {
    const dot = value.indexOf('.');
    return { [key]: dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [key]: value };
}

const CUSTOM_TAGS: YAML.Tags = Object.entries(SHORT_FORMS).flatMap(([tag, key]) => ([
  { tag: `!${tag}`, identify: () => false, resolve: (value: string) => longForm(tag, key, value) },
  { tag: `!${tag}`, identify: () => false, collection: 'seq' as const, resolve: (seq: any) => longForm(tag, key, seq.toJSON()) },
  { tag: `!${tag}`, identify: () => false, collection: 'map' as const, resolve: (map: any) => longForm(tag, key, map.toJSON()) },
]));

/**
 * Parses template text. JSON is YAML too, so one parser serves both.
 * @throws Error naming the file, line and column of a syntax error.
 */
export function parseTemplate(text: string, file: string): any {
  const doc = YAML.parseDocument(text, { customTags: CUSTOM_TAGS, uniqueKeys: true, prettyErrors: true, version: '1.1' });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const where = e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new Error(`${file} is not a valid template${where}: ${e.message.split('\n')[0]}`);
  }
  const template = doc.toJS({ maxAliasCount: 1000 });
  if (typeof template !== 'object' || template === null || Array.isArray(template)) {
    throw new Error(`${file} is not a template: its top level is not a map.`);
  }
  if (typeof template.Resources !== 'object' || template.Resources === null) {
    throw new Error(`${file} has no Resources section.`);
  }
  return template;
}

export function readTemplate(file: string): any {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`Template ${file} does not exist; check templateFile.`);
  }
  return parseTemplate(text, file);
}
