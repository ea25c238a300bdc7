import { parseTemplate } from '../../src/private/sam/template';

describe('reading SAM templates', () => {
  test('YAML short-form intrinsics become their long form', () => {
    const t = parseTemplate([
      'Resources:',
      '  Fn:',
      '    Type: AWS::Serverless::Function',
      '    Properties:',
      '      Role: !GetAtt Role.Arn',
      '      Layers: [!Ref Shared]',
      '      Environment:',
      '        Variables:',
      '          URL: !Sub "https://${Api}.example.com"',
      '          JOINED: !Join [",", [a, !Ref B]]',
      '          PICKED: !If [IsProd, !FindInMap [M, !Ref "AWS::Region", k], none]',
      '          MAPPED: !Sub',
      '            - "${X}-y"',
      '            - X: !GetAtt [Other, Name]',
      '      Tracing: !Ref AWS::NoValue',
    ].join('\n'), 'template.yaml').value;
    expect(t.Resources.Fn.Properties).toEqual({
      Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
      Layers: [{ Ref: 'Shared' }],
      Environment: {
        Variables: {
          URL: { 'Fn::Sub': 'https://${Api}.example.com' },
          JOINED: { 'Fn::Join': [',', ['a', { Ref: 'B' }]] },
          PICKED: { 'Fn::If': ['IsProd', { 'Fn::FindInMap': ['M', { Ref: 'AWS::Region' }, 'k'] }, 'none'] },
          MAPPED: { 'Fn::Sub': ['${X}-y', { X: { 'Fn::GetAtt': ['Other', 'Name'] } }] },
        },
      },
      Tracing: { Ref: 'AWS::NoValue' },
    });
  });

  test('JSON templates read the same way', () => {
    expect(parseTemplate('{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}', 't.json').value.Resources.Q.Type).toBe('AWS::SQS::Queue');
  });

  test.each([
    ['Resources:\n  A: [unclosed\n', /t\.yaml is not a valid template at line \d+, column \d+/],
    ['Resources:\n  A: 1\n  A: 2\n', /t\.yaml is not a valid template at line 3/],
    ['- a\n- b\n', /t\.yaml is not a template: its top level is not a map/],
    ['Parameters: {}\n', /t\.yaml has no Resources section/],
  ])('bad input %#: a clear error naming the file', (text, message) => {
    expect(() => parseTemplate(text, 't.yaml')).toThrow(message);
  });
});
