/**
 * A review of the public API for jsii friendliness, run on the compiled assembly (.jsii):
 * no name a Python or Java user cannot write, and every optional prop with its @default.
 * (projen silences jsii's own reserved-word warning, so this is the check.)
 */
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/run';

// The keywords of each language (Python 3.12 keyword + soft keywords; Java 17 JLS 3.9
// plus the literals and contextual words that cannot name a method or parameter).
const PYTHON_KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del',
  'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal',
  'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield', 'match', 'case', 'type', '_', 'self', 'cls',
]);
const JAVA_KEYWORDS = new Set([
  'abstract', 'assert', 'boolean', 'break', 'byte', 'case', 'catch', 'char', 'class', 'const', 'continue', 'default',
  'do', 'double', 'else', 'enum', 'extends', 'final', 'finally', 'float', 'for', 'goto', 'if', 'implements', 'import',
  'instanceof', 'int', 'interface', 'long', 'native', 'new', 'package', 'private', 'protected', 'public', 'return',
  'short', 'static', 'strictfp', 'super', 'switch', 'synchronized', 'this', 'throw', 'throws', 'transient', 'try',
  'void', 'volatile', 'while', 'true', 'false', 'null', 'var', 'yield', 'record', 'sealed', 'permits', '_',
]);

interface Named { readonly where: string; readonly name: string }

/** Every name a user writes: types, properties, methods, parameters, enum members. */
function publicNames(assembly: any): Named[] {
  const names: Named[] = [];
  for (const [fqn, type] of Object.entries<any>(assembly.types)) {
    names.push({ where: fqn, name: type.name });
    for (const p of type.properties ?? []) names.push({ where: `${fqn}.${p.name}`, name: p.name });
    for (const m of type.members ?? []) names.push({ where: `${fqn}.${m.name}`, name: m.name });
    for (const m of [...(type.methods ?? []), ...(type.initializer ? [{ name: '<init>', ...type.initializer }] : [])]) {
      if (m.name !== '<init>') names.push({ where: `${fqn}.${m.name}()`, name: m.name });
      for (const p of m.parameters ?? []) names.push({ where: `${fqn}.${m.name}(${p.name})`, name: p.name });
    }
  }
  return names;
}

/** In Python, props and methods are snake_case; the keyword check applies to that spelling. */
function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function reservedWordProblems(assembly: any): string[] {
  return publicNames(assembly).flatMap(({ where, name }) => [
    ...(PYTHON_KEYWORDS.has(name) || PYTHON_KEYWORDS.has(snake(name)) ? [`${where}: "${name}" is a Python keyword`] : []),
    ...(JAVA_KEYWORDS.has(name) ? [`${where}: "${name}" is a Java keyword`] : []),
  ]);
}

function docProblems(assembly: any): string[] {
  const problems: string[] = [];
  for (const [fqn, type] of Object.entries<any>(assembly.types)) {
    if (!type.docs?.summary) problems.push(`${fqn}: no doc comment`);
    for (const p of type.properties ?? []) {
      if (!p.docs?.summary) problems.push(`${fqn}.${p.name}: no doc comment`);
      if (p.optional && p.docs?.default === undefined) problems.push(`${fqn}.${p.name}: optional without @default`);
    }
    for (const m of type.members ?? []) if (!m.docs?.summary) problems.push(`${fqn}.${m.name}: no doc comment`);
    for (const m of type.methods ?? []) if (!m.docs?.summary) problems.push(`${fqn}.${m.name}(): no doc comment`);
  }
  return problems;
}

const ASSEMBLY = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, '.jsii'), 'utf8'));

describe('the public API, for Python and Java users', () => {
  test('has our types, and no name that is a Python or Java keyword', () => {
    expect(Object.keys(ASSEMBLY.types)).toEqual(expect.arrayContaining([
      'possum-cdk.PythonPipfileFunction', 'possum-cdk.SamTemplatePackager', 'possum-cdk.NestedZip', 'possum-cdk.Installer',
    ]));
    expect(reservedWordProblems(ASSEMBLY)).toEqual([]);
  });

  test('documents every type, property, method and enum member, and every optional property has @default', () => {
    expect(docProblems(ASSEMBLY)).toEqual([]);
  });

  test('the checks catch what they are for', () => {
    const bad = {
      types: {
        'x.Props': {
          name: 'Props',
          docs: { summary: 'Props.' },
          properties: [
            { name: 'lambda', optional: true, docs: { summary: 'A function.' } },
            { name: 'isDefault', docs: {} },
          ],
        },
        'x.Thing': { name: 'Thing', methods: [{ name: 'pass', docs: { summary: 'Pass.' }, parameters: [{ name: 'import' }] }] },
      },
    };
    expect(reservedWordProblems(bad)).toEqual([
      'x.Props.lambda: "lambda" is a Python keyword',
      'x.Thing.pass(): "pass" is a Python keyword',
      'x.Thing.pass(import): "import" is a Python keyword',
      'x.Thing.pass(import): "import" is a Java keyword',
    ]);
    expect(docProblems(bad)).toEqual([
      'x.Props.lambda: optional without @default',
      'x.Props.isDefault: no doc comment',
      'x.Thing: no doc comment',
    ]);
  });
});
