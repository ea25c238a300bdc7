import { isIntrinsic, mergeGlobal, resolvedProperties } from '../../src/private/sam/globals';

describe('SAM Globals', () => {
  const template = {
    Globals: {
      Function: {
        Runtime: 'python3.12',
        Handler: 'app.handler',
        CodeUri: 'src/',
        Timeout: 30,
        Architectures: ['arm64'],
        Layers: [{ Ref: 'SharedLayer' }],
        Environment: { Variables: { TABLE: 'orders', STAGE: { Ref: 'Stage' } } },
      },
    },
    Resources: {
      Inherits: { Type: 'AWS::Serverless::Function', Properties: {} },
      Overrides: {
        Type: 'AWS::Serverless::Function',
        Properties: {
          Runtime: 'python3.13',
          CodeUri: 'other/',
          Layers: [{ Ref: 'ExtraLayer' }],
          Environment: { Variables: { STAGE: 'prod', OWN: '1' } },
          Timeout: { 'Fn::If': ['IsProd', 60, 10] },
        },
      },
      Queue: { Type: 'AWS::SQS::Queue', Properties: { DelaySeconds: 1 } },
    },
  };

  test('a function without its own values inherits them all, Globals.Function.CodeUri included', () => {
    expect(resolvedProperties(template, 'Inherits')).toEqual(template.Globals.Function);
  });

  test('own primitives and intrinsics win, maps merge key by key, lists are Globals then own', () => {
    expect(resolvedProperties(template, 'Overrides')).toEqual({
      Runtime: 'python3.13',
      Handler: 'app.handler',
      CodeUri: 'other/',
      Timeout: { 'Fn::If': ['IsProd', 60, 10] },
      Architectures: ['arm64'],
      Layers: [{ Ref: 'SharedLayer' }, { Ref: 'ExtraLayer' }],
      Environment: { Variables: { TABLE: 'orders', STAGE: 'prod', OWN: '1' } },
    });
  });

  test('resources that Globals do not cover keep their properties', () => {
    expect(resolvedProperties(template, 'Queue')).toEqual({ DelaySeconds: 1 });
  });

  test('an intrinsic counts as a primitive, not a map to merge into', () => {
    expect(isIntrinsic({ Ref: 'X' })).toBe(true);
    expect(isIntrinsic({ 'Fn::Sub': '${X}' })).toBe(true);
    expect(isIntrinsic({ Ref: 'X', Other: 1 })).toBe(false);
    expect(mergeGlobal({ Variables: { A: '1' } }, { Ref: 'EnvMap' })).toEqual({ Ref: 'EnvMap' });
    expect(mergeGlobal({ Ref: 'EnvMap' }, { Variables: { A: '1' } })).toEqual({ Variables: { A: '1' } });
  });
});
