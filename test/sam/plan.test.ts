import * as fs from 'fs';
import * as path from 'path';
import { knownParameters, planSamPackaging } from '../../src/private/sam/plan';
import { tempDir } from '../helpers/run';

/** Plans a template of one folder of code; returns the artifacts. */
function plan(template: any, given: Record<string, string> = {}) {
  const dir = tempDir('sam-plan');
  fs.mkdirSync(path.join(dir, 'fn'));
  fs.writeFileSync(path.join(dir, 'fn', 'app.py'), 'def handler(e, c):\n    return 1\n');
  const file = path.join(dir, 'template.yaml');
  return planSamPackaging(template, file, knownParameters(template, given));
}

const fn = (props: Record<string, unknown>) => ({
  Type: 'AWS::Serverless::Function',
  Properties: { CodeUri: 'fn/', Runtime: 'python3.12', Handler: 'app.handler', ...props },
});

describe('planning a SAM template: architectures from parameters', () => {
  const parameters = { Arch: { Type: 'String', Default: 'arm64' }, Archs: { Type: 'CommaDelimitedList', Default: 'arm64' }, Unset: { Type: 'String' } };

  test('an item of Architectures, or the whole list, from a parameter: its given value, else its Default', () => {
    const template = {
      Parameters: parameters,
      Resources: {
        Item: fn({ Architectures: [{ Ref: 'Arch' }] }),
        List: fn({ Architectures: { Ref: 'Archs' } }),
        Layer: { Type: 'AWS::Serverless::LayerVersion', Properties: { ContentUri: 'fn/', CompatibleArchitectures: [{ Ref: 'Arch' }] } },
      },
    };
    const archs = (given: Record<string, string>) =>
      Object.fromEntries(plan(template, given).map(a => [a.logicalId, a.kind === 'code' ? a.architectures : undefined]));
    expect(archs({})).toEqual({ Item: ['arm64'], List: ['arm64'], Layer: ['arm64'] });
    expect(archs({ Arch: 'x86_64', Archs: 'x86_64,arm64' })).toEqual({ Item: ['x86_64'], List: ['x86_64', 'arm64'], Layer: ['x86_64'] });
  });

  test('a parameter without a value or Default is an error that says how to give one', () => {
    expect(() => plan({ Parameters: parameters, Resources: { Fn: fn({ Architectures: [{ Ref: 'Unset' }] }) } }))
      .toThrow(/resource Fn \(AWS::Serverless::Function\): its Architectures is !Ref Unset, which is not a parameter with a value or Default; .*possum's --parameter-overrides/);
    expect(() => plan({ Parameters: parameters, Resources: { Fn: fn({ Architectures: [{ Ref: 'Arch' }] }) } }, { Arch: 'sparc' }))
      .toThrow(/its architectures \["sparc"\] must be a list of x86_64 and\/or arm64/);
  });
});

describe('planning a SAM template: container image functions', () => {
  test('an image function without ImageUri is reported (with its Docker context); with one, or with Globals giving one, it is left alone', () => {
    const template = {
      Globals: { Function: { PackageType: 'Image' } },
      Resources: {
        Built: { Type: 'AWS::Serverless::Function', Properties: {}, Metadata: { Dockerfile: 'Dockerfile', DockerContext: './img' } },
        Pushed: { Type: 'AWS::Serverless::Function', Properties: { ImageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1' } },
      },
    };
    // An ImageUri alone (no PackageType, no code) is an image function to SAM too: nothing to package, nothing to refuse.
    expect(plan({ Resources: { Alone: { Type: 'AWS::Serverless::Function', Properties: { ImageUri: 'repo/app:1' } } } })).toEqual([]);
    const images = plan(template).filter(a => a.kind === 'image');
    expect(images.map(a => a.logicalId)).toEqual(['Built']);
    expect(images[0].kind === 'image' && images[0].problem).toMatch(/^it is a container image function \(PackageType: Image\) with no ImageUri, whose image sam build would build \(Metadata\.DockerContext \.\/img\)\./);
  });
});

describe('planning a SAM template: every problem at once', () => {
  test('each resource that cannot be packaged is named in one error, and a value from Globals says so', () => {
    const template = {
      Globals: { Function: { Runtime: 'python3.8' } },
      Resources: {
        A: fn({ Runtime: undefined }),
        B: fn({ Runtime: undefined }),
        C: fn({ Runtime: 'python3.8' }),
        Fine: fn({ Runtime: 'python3.12' }),
        Gone: fn({ Runtime: 'python3.12', CodeUri: 'gone/' }),
      },
    };
    let message = '';
    try {
      plan(template);
    } catch (e: any) {
      message = e.message;
    }
    const lines = message.split('\n');
    expect(lines.map(l => /resource (\w+) /.exec(l)?.[1])).toEqual(['A', 'B', 'C', 'Gone']);
    expect(lines[0]).toMatch(/: resource A \(AWS::Serverless::Function\): its Runtime is python3\.8, which AWS Lambda has deprecated .* \(Runtime comes from the template's Globals\.Function\)$/);
    // C sets its own Runtime: that is where to fix it.
    expect(lines[2]).not.toContain('Globals');
    expect(lines[3]).toMatch(/resource Gone \(AWS::Serverless::Function\): CodeUri gone\/ does not exist/);
  });
});

describe('planning a SAM template: a Handler whose module is not in the folder', () => {
  /** Plans functions over a folder holding these files; returns each function's warnings. */
  function warningsOf(files: Record<string, string>, resources: Record<string, unknown>, globals?: Record<string, unknown>) {
    const dir = tempDir('sam-handler');
    for (const [rel, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, 'src', rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, 'src', rel), content);
    }
    const template = { Globals: globals ? { Function: globals } : undefined, Resources: resources };
    const planned = planSamPackaging(template, path.join(dir, 'template.yaml'), knownParameters(template, {}));
    return Object.fromEntries(planned.map(a => [a.logicalId, a.kind === 'code' ? a.warnings ?? [] : []]));
  }
  const at = (handler: string | undefined, more: Record<string, unknown> = {}) => ({
    Type: 'AWS::Serverless::Function',
    Properties: { CodeUri: 'src/', Runtime: 'python3.12', ...handler ? { Handler: handler } : {}, ...more },
  });

  test('a module file, a package, a subfolder module (dots or slashes) or a compiled module is found: no warning', () => {
    const warnings = warningsOf({
      'app.py': '', 'pkg/__init__.py': '', 'pkg/api.py': '', 'handlers/orders.py': '', 'fast.cpython-312-x86_64-linux-gnu.so': '',
    }, {
      File: at('app.lambda_handler'),
      Package: at('pkg.handler'),
      Dotted: at('pkg.api.handler'),
      Slashed: at('handlers/orders.handler'),
      Compiled: at('fast.handler'),
    });
    expect(warnings).toEqual({ File: [], Package: [], Dotted: [], Slashed: [], Compiled: [] });
  });

  test('a module that is not there is a warning naming the Handler, the folder and the fix, unless the function has layers', () => {
    const warnings = warningsOf({ 'app.py': '' }, {
      Wrong: at('src.app.handler'),
      Layered: at('shared.handler', { Layers: ['arn:aws:lambda:us-east-1:123456789012:layer:shared:3'] }),
      FromGlobals: at(undefined),
    }, { Handler: 'main.handler' });
    expect(warnings.Wrong).toHaveLength(1);
    expect(warnings.Wrong[0]).toMatch(/its Handler src\.app\.handler names the module src\.app, but CodeUri \S+\/src has no src\/app\.py or src\/app\/, and the function has no Layers: Lambda would fail with "Unable to import module 'src\.app'"\. Give Handler as the module's path under CodeUri/);
    expect(warnings.Layered).toEqual([]);
    expect(warnings.FromGlobals[0]).toMatch(/its Handler main\.handler \(from the template's Globals\.Function\) names the module main/);
  });

  test('a handler from a dependency the folder\'s manifest names (a tracing wrapper) is no warning; a typo beside a manifest still is', () => {
    const warnings = warningsOf({ 'app.py': '', 'requirements.txt': 'requests==2.32.3\nDatadog-Lambda==6.0.0  # wraps app.lambda_handler\n' }, {
      Wrapped: at('datadog_lambda.handler.handler'), Typo: at('ap.lambda_handler'), Requests: at('requests.api.get'),
    });
    expect(warnings.Wrapped).toEqual([]);
    expect(warnings.Requests).toEqual([]);
    expect(warnings.Typo[0]).toMatch(/its Handler ap\.lambda_handler names the module ap, but CodeUri \S+ has no ap\.py or ap\//);

    // A src-layout project: its own name is not a dependency (the project is not installed, only what it depends on).
    const project = warningsOf({
      'pyproject.toml': '[project]\nname = "orders-svc"\nversion = "1.0"\ndependencies = ["aws-lambda-powertools>=3"]\n', 'src/orders_svc/handler.py': '',
    }, { Orders: at('orders_svc.handler.main'), Powertools: at('aws_lambda_powertools.logging.handler') });
    expect(project.Orders[0]).toMatch(/its Handler orders_svc\.handler\.main names the module orders_svc\.handler/);
    expect(project.Powertools).toEqual([]);
    // With a uv.lock the src-layout project is installed itself (as uv sync does), so its package is there.
    const locked = warningsOf({ 'pyproject.toml': '[project]\nname = "orders-svc"\n', 'uv.lock': 'version = 1\n', 'src/orders_svc/handler.py': '' },
      { Orders: at('orders_svc.handler.main') });
    expect(locked.Orders).toEqual([]);
  });
});
