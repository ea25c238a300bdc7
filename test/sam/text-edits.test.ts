import { Edit } from '../../src/private/sam/packaging';
import { parseTemplate } from '../../src/private/sam/template';
import { editTemplateText } from '../../src/private/sam/text-edits';

/**
 * editTemplateText places all edits from one parse when their places in the text are apart,
 * and one at a time (a parse per edit) otherwise. One at a time is what editing with each
 * edit alone, again and again, gives: both must produce the same text, byte for byte.
 */
function oneAtATime(text: string, edits: readonly Edit[]): string {
  return edits.reduce((t, e) => editTemplateText(parseTemplate(t, 't.yaml'), [e]), text);
}

function check(text: string, edits: readonly Edit[]): string {
  const out = editTemplateText(parseTemplate(text, 't.yaml'), edits);
  expect(out).toBe(oneAtATime(text, edits));
  return out;
}

const fnPath = (id: string, ...rest: string[]) => ['Resources', id, 'Properties', ...rest];

describe('editing a template in place, many edits at once', () => {
  test('block YAML with comments, tags and quoting: code locations, a new key, a handler and a variable, in many resources', () => {
    const resources = Array.from({ length: 40 }, (_, i) => [
      `  Fn${i}:   # function ${i}`,
      '    Type: AWS::Serverless::Function',
      '    Properties:',
      `      CodeUri: 'src/fn${i}/'`,
      '      Handler: app.handler',
      '      Environment:',
      '        Variables:',
      '          TABLE: !Ref Table',
      "          FLAG: 'OFF'",
      '      Policies:',
      '        - !Sub "arn:${AWS::Partition}:s3:::b/*"',
    ].join('\n'));
    const text = ['# keep me', "AWSTemplateFormatVersion: '2010-09-09'", 'Transform: AWS::Serverless-2016-10-31', 'Resources:', ...resources, ''].join('\n');
    const edits: Edit[] = [];
    for (let i = 0; i < 40; i++) {
      edits.push({ path: fnPath(`Fn${i}`, 'CodeUri'), value: `s3://bucket/k${i}.zip` });
      if (i % 3 === 0) {
        edits.push({ path: fnPath(`Fn${i}`, 'Handler'), value: '_possum_loader.handler' });
        edits.push({ path: fnPath(`Fn${i}`, 'EphemeralStorage'), value: { Size: 1024 } });
        edits.push({ path: fnPath(`Fn${i}`, 'Environment', 'Variables', 'POSSUM_HANDLER'), value: 'app.handler' });
      }
    }
    const out = check(text, edits);
    expect(out).toContain('# keep me');
    expect(out).toContain('  Fn7:   # function 7');
    expect(out.match(/!Sub "arn:\$\{AWS::Partition\}:s3:::b\/\*"/g)).toHaveLength(40);
    expect(out.match(/FLAG: 'OFF'/g)).toHaveLength(40);
    expect(out).toContain('      CodeUri: "s3://bucket/k39.zip"');
    expect(parseTemplate(out, 't.yaml').value.Resources.Fn3.Properties.Environment.Variables).toEqual({ POSSUM_HANDLER: 'app.handler', TABLE: { Ref: 'Table' }, FLAG: 'OFF' });
  });

  test('edits that depend on each other (two new keys in one map, a map made by an earlier edit) are made one at a time', () => {
    const text = [
      'Resources:',
      '  Fn:',
      '    Type: AWS::Serverless::Function',
      '    Properties:',
      '      CodeUri: src/',
      '      Handler: app.h',
      '  Flow:',
      '    Type: AWS::Serverless::Function',
      '    Properties: {CodeUri: flow/, Handler: app.h}',
      '',
    ].join('\n');
    const out = check(text, [
      { path: fnPath('Fn', 'CodeUri'), value: 's3://b/1.zip' },
      // Both go before the map's first key, and the second goes into the map the first one makes.
      { path: fnPath('Fn', 'EphemeralStorage'), value: { Size: 2048 } },
      { path: fnPath('Fn', 'Environment', 'Variables', 'POSSUM_HANDLER'), value: 'app.h' },
      { path: fnPath('Fn', 'Environment', 'Variables', 'OTHER'), value: 'x' },
      // Two new keys into one flow map: the second needs the first one's separator.
      { path: fnPath('Flow', 'EphemeralStorage'), value: { Size: 2048 } },
      { path: fnPath('Flow', 'Timeout'), value: 30 },
      { path: fnPath('Flow', 'CodeUri'), value: 's3://b/2.zip' },
    ]);
    const value = parseTemplate(out, 't.yaml').value;
    expect(value.Resources.Fn.Properties.Environment).toEqual({ Variables: { POSSUM_HANDLER: 'app.h', OTHER: 'x' } });
    expect(value.Resources.Flow.Properties).toEqual({ EphemeralStorage: { Size: 2048 }, Timeout: 30, CodeUri: 's3://b/2.zip', Handler: 'app.h' });
  });

  test('a JSON template stays JSON, with Code objects and layer locations replaced', () => {
    const template = {
      Resources: Object.fromEntries(Array.from({ length: 12 }, (_, i) => i % 2
        ? [`L${i}`, { Type: 'AWS::Serverless::LayerVersion', Properties: { ContentUri: `layer${i}/`, CompatibleRuntimes: ['python3.12'] } }]
        : [`F${i}`, { Type: 'AWS::Lambda::Function', Properties: { Code: `fn${i}/`, Handler: 'app.h', Runtime: 'python3.12' } }])),
    };
    const text = JSON.stringify(template, undefined, 2) + '\n';
    const edits: Edit[] = Object.keys(template.Resources).map(id => id.startsWith('L')
      ? { path: fnPath(id, 'ContentUri'), value: `s3://b/${id}.zip` }
      : { path: fnPath(id, 'Code'), value: { S3Bucket: 'b', S3Key: `${id}.zip` } });
    const out = check(text, edits);
    expect(JSON.parse(out).Resources.F4.Properties.Code).toEqual({ S3Bucket: 'b', S3Key: 'F4.zip' });
    expect(JSON.parse(out).Resources.L5.Properties.ContentUri).toBe('s3://b/L5.zip');
  });

  test('an edit that cannot be placed gives the same error as before', () => {
    const text = ['Resources:', '  Fn:', '    Type: AWS::Serverless::Function', '    Properties: !If [Cond, {CodeUri: a/}, {CodeUri: b/}]', ''].join('\n');
    expect(() => editTemplateText(parseTemplate(text, 't.yaml'), [
      { path: fnPath('Fn', 'CodeUri'), value: 's3://b/1.zip' },
    ])).toThrow(/t\.yaml: Resources\.Fn\.Properties is not a plain map, so Resources\.Fn\.Properties\.CodeUri cannot be set/);
  });
});
