import * as fs from 'fs';
import * as path from 'path';
import { parseTemplate, readTemplate } from '../../src/private/sam/template';
import { tempDir } from '../helpers/run';
import { fetchCorpus, samCheckBatch } from '../helpers/sam-corpora';

/**
 * possum-cdk reads templates the way the SAM CLI does. The reference is the SAM CLI's own
 * reading, reproduced by test/fixtures/sam_check.py `parse` (PyYAML with the SAM CLI's
 * constructors): the same values, and every float that JavaScript would print without its
 * ".0" is remembered with its JSON text.
 */

/**
 * Where we refuse on purpose what the SAM CLI reads: duplicate keys (PyYAML keeps the last
 * one silently; cfn-lint reports them as errors), an alias expanding past a million values,
 * and files that are not templates.
 */
const REFUSED_ON_PURPOSE = /Map keys must be unique|expands to more than|has no Resources section|is not a template/;

/** Our reading against sam_check.py's, for templates in files. */
function compare(files: string[]) {
  const outcomes = samCheckBatch(files.map(f => ({ command: 'parse', template: f, types: true })));
  const problems: string[] = [];
  files.forEach((file, i) => {
    const reference = outcomes[i];
    let ours: ReturnType<typeof readTemplate>;
    try {
      ours = readTemplate(file);
    } catch (e: any) {
      if (reference.ok && !REFUSED_ON_PURPOSE.test(e.message)) problems.push(`${file}: we refuse (${e.message.split('\n')[0]}), SAM reads it`);
      return;
    }
    if (!reference.ok) return; // SAM cannot read it either (our reading is not checked)
    const { template, types } = reference.result as { template: unknown; types: Record<string, string> };
    if (JSON.stringify(sortKeys(ours.value)) !== JSON.stringify(sortKeys(template))) {
      problems.push(`${file}: values differ`);
      return;
    }
    for (const [pointer, type] of Object.entries(types)) {
      const value = get(template, pointer);
      const needsRaw = type === 'float' && Number.isInteger(value);
      if (needsRaw !== ours.rawNumbers.has(pointer)) problems.push(`${file}: ${pointer} (${type} ${value}) raw=${ours.rawNumbers.get(pointer)}`);
    }
  });
  return problems;
}

function get(value: any, pointer: string): any {
  return pointer.split('/').slice(1).map(s => s.replace(/~1/g, '/').replace(/~0/g, '~')).reduce((v, k) => v?.[k], value);
}

function sortKeys(v: any): any {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map(k => [k, sortKeys(v[k])]));
  return v;
}

describe('templates are read as the SAM CLI reads them', () => {
  test('YAML 1.1 scalars, dates, short forms, merges, JSON numbers', () => {
    const dir = tempDir('reader');
    const yamlFile = path.join(dir, 'torture.yaml');
    fs.writeFileSync(yamlFile, [
      'AWSTemplateFormatVersion: 2010-09-09',
      'Resources:',
      '  Api:',
      '    Type: AWS::Serverless::Api',
      '    Properties:',
      '      OpenApiVersion: 3.0',
      '      Version: 2012-10-17',
      '      Flags: [yes, No, on, OFF, y, N, "yes", \'OFF\', true, ~, null, .]',
      '      Numbers: [010, 09, 0x1F, 1_000, 1e3, 1.0e+3, .5, 3., 190:20:30, -0, +12]',
      '      Intrinsics: [!Ref X, !GetAtt A.B.C, !Sub "${AWS::Region}", !Join [".", [a, !Ref B]], !Ref 3]',
      '      Merged:',
      '        <<: &base {a: 1, b: 2}',
      '        b: 3',
      '      Again: *base',
      '      Block: |',
      '        line one',
      '        line two',
      '      Payload: 2.0',
      '      method.request.header.Authorization: {Required: true}',
      '',
    ].join('\n'));
    const jsonFile = path.join(dir, 'template.json');
    fs.writeFileSync(jsonFile, '{"Resources": {"A": {"Type": "X", "Properties": {"V": 3.0, "E": 1e3, "I": 10, "B": true, "N": null, "S": "yes"}}}}\n');
    expect(compare([yamlFile, jsonFile])).toEqual([]);
    const t = readTemplate(yamlFile);
    expect(t.value.Resources.Api.Properties.Version).toBe('2012-10-17');
    expect(t.rawNumbers.get('/Resources/Api/Properties/OpenApiVersion')).toBe('3.0');
    expect(readTemplate(jsonFile).rawNumbers.get('/Resources/A/Properties/V')).toBe('3.0');
  });

  test('every template of cfn-lint\'s corpus (fetched from PyPI) reads the same as in the SAM CLI', () => {
    const corpus = fetchCorpus('cfn-lint');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.(ya?ml|json|template)$/.test(e.name)) files.push(p);
      }
    };
    walk(corpus.templateDir);
    expect(files.length).toBeGreaterThan(200);
    expect(compare(files)).toEqual([]);
  });

  test('an alias that contains itself, and an alias bomb, are errors naming the problem', () => {
    expect(() => parseTemplate('Resources: &r\n  A:\n    Type: X\n    Properties: *r\n', 't.yaml'))
      .toThrow(/t\.yaml: alias \*r at line 4, column \d+ refers to a node that contains it/);
    const bomb = ['Resources: {}', 'a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    expect(() => parseTemplate(bomb.join('\n') + '\n', 'bomb.yaml')).toThrow(/bomb\.yaml expands to more than 1000000 values/);
  });

  test('syntax errors and non-templates name the file and where', () => {
    expect(() => parseTemplate('Resources:\n  A: [\n', 'bad.yaml')).toThrow(/bad\.yaml is not a valid template at line \d+, column \d+/);
    expect(() => parseTemplate('- a\n', 'list.yaml')).toThrow('list.yaml is not a template: its top level is not a map.');
    expect(() => parseTemplate('Outputs: {}\n', 'none.yaml')).toThrow('none.yaml has no Resources section.');
  });
});
