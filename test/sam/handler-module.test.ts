import * as path from 'path';
import { exclusionOf, findModule, handlerModuleOf } from '../../src/private/handler-module';
import { tempDir, writeTree } from '../helpers/run';

describe('handler modules and the excludes that leave them out', () => {
  let root: string;
  beforeAll(() => {
    root = path.join(tempDir('handler-module'), 'fn');
    writeTree(root, {
      'app.py': '',
      'pkg/__init__.py': 'def handler(e, c): pass\n',
      'pkg/api/routes.py': '',
      'ns/inner/mod.py': '',
      'fast.cpython-311-x86_64-linux-gnu.so': '',
      'sourceless.pyc': '',
      'tests/smoke.py': '',
    });
  });

  test('a handler names a module Python could import, by dots or slashes', () => {
    expect(handlerModuleOf('app.handler')).toBe('app');
    // As written: Lambda names `src/app` in its errors.
    expect(handlerModuleOf('src/app.lambda_handler')).toBe('src/app');
    expect(handlerModuleOf('pkg.api.routes.handler')).toBe('pkg.api.routes');
    expect(handlerModuleOf('handler')).toBeUndefined();
    expect(handlerModuleOf('my-app.handler')).toBeUndefined();
  });

  test('modules are found as files, package __init__.py, namespace folders and compiled files', () => {
    expect(findModule(root, 'app')).toEqual({ rel: 'app.py', isDirectory: false });
    expect(findModule(root, 'pkg')).toEqual({ rel: 'pkg/__init__.py', isDirectory: false });
    expect(findModule(root, 'pkg.api.routes')).toEqual({ rel: 'pkg/api/routes.py', isDirectory: false });
    expect(findModule(root, 'pkg/api/routes')).toEqual({ rel: 'pkg/api/routes.py', isDirectory: false });
    expect(findModule(root, 'ns')).toEqual({ rel: 'ns', isDirectory: true });
    expect(findModule(root, 'fast')).toEqual({ rel: 'fast.cpython-311-x86_64-linux-gnu.so', isDirectory: false });
    expect(findModule(root, 'missing')).toBeUndefined();
    expect(findModule(root, 'pkg.missing')).toBeUndefined();
  });

  test('the pattern that leaves a module out, and the path it matched', () => {
    const of = (module: string, excludes: string[]) => exclusionOf(findModule(root, module)!, excludes);
    expect(of('app', [])).toBeUndefined();
    expect(of('app', ['*.md'])).toBeUndefined();
    expect(of('app', ['*.py'])).toEqual({ pattern: '*.py', path: 'app.py' });
    expect(of('app', ['*.py', '!app.py'])).toBeUndefined();
    // A package's handler goes with its __init__.py, though the folder stays.
    expect(of('pkg', ['*.py'])).toEqual({ pattern: '*.py', path: 'pkg/__init__.py' });
    // A folder above the module takes it along, whatever is kept after it.
    expect(of('pkg.api.routes', ['api/', '!pkg/api/routes.py'])).toEqual({ pattern: 'api/', path: 'pkg/api/' });
    expect(of('pkg.api.routes', ['api/', '!api/'])).toBeUndefined();
    expect(of('tests.smoke', ['/tests/', '/test/'])).toEqual({ pattern: '/tests/', path: 'tests/' });
    expect(of('ns', ['ns/'])).toEqual({ pattern: 'ns/', path: 'ns/' });
    // The engine always leaves .pyc out; a kept one goes in.
    expect(of('sourceless', [])).toEqual({ pattern: '*.pyc', path: 'sourceless.pyc' });
    expect(of('sourceless', ['!sourceless.pyc'])).toBeUndefined();
  });
});
