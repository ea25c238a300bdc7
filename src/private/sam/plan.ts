import * as fs from 'fs';
import * as path from 'path';
import { isIntrinsic, resolvedProperties } from './globals';
import { findModule, handlerModuleOf, isDirectory, isFile, modulePath } from '../handler-module';
import { pythonRuntimeProblem } from '../python/target';

/**
 * What packaging a SAM template means, decided before anything is built: every local file
 * or folder the template names, as `sam package` finds them, and where its new location
 * goes. Errors name the template, the resource and the fix, and come before any install.
 */

/** A JSON path into the template. */
export type TemplatePath = readonly string[];

/** Code possum-cdk bundles from a local folder. */
export interface CodeArtifact {
  readonly kind: 'code';
  readonly logicalId: string;
  readonly type: 'AWS::Serverless::Function' | 'AWS::Serverless::LayerVersion' | 'AWS::Lambda::Function' | 'AWS::Lambda::LayerVersion';
  /** Absolute folder with the code (and its dependency manifest). */
  readonly folder: string;
  /**
   * python: a Python function, or a layer of its folder's dependencies and files under
   * python/ (`BuildMethod: python3.x`); plain: a layer or function zipped as it is.
   */
  readonly build: 'python' | 'plain';
  /** Lambda runtime name, e.g. python3.12 (a python layer: its BuildMethod). */
  readonly runtime?: string;
  /** Architecture names (x86_64 / arm64). */
  readonly architectures: string[];
  /** The handler string (functions only). */
  readonly handler?: string;
  /** Logical IDs of layers in this template that the function references. */
  readonly layerRefs: string[];
  /** The function's own (or Globals') EphemeralStorage size, in MB. */
  readonly ephemeralMb?: number;
  /** Where the new location goes. */
  readonly path: TemplatePath;
  /** Soft problems found while planning (a layer's files one python/ too deep, an architecture mismatch). */
  readonly warnings?: string[];
}

/** A local file uploaded as it is (API and state machine definitions, AWS::Include snippets). */
export interface FileArtifact {
  readonly kind: 'file';
  readonly logicalId?: string;
  readonly file: string;
  /**
   * How the location is written: an s3:// URI, a {Bucket, Key} map, or as the code of a
   * function or layer (a .zip that `sam package` uploads as it is).
   */
  readonly style: 'uri' | 'bucket-key' | 'serverless-code' | 'lambda-code';
  readonly path: TemplatePath;
}

/** A nested template (AWS::Serverless::Application, AWS::CloudFormation::Stack): packaged itself, then uploaded. */
export interface TemplateArtifact {
  readonly kind: 'template';
  readonly logicalId: string;
  readonly file: string;
  readonly path: TemplatePath;
}

/**
 * A function whose code is a container image with no ImageUri. possum-cdk builds no images
 * (no Docker), so the template would not deploy unless something else gives it one.
 */
export interface ImageArtifact {
  readonly kind: 'image';
  readonly logicalId: string;
  /** What is missing and how to provide it, for an error or a warning. */
  readonly problem: string;
  /** Where the image's URI would go. */
  readonly path: TemplatePath;
}

export type Artifact = CodeArtifact | FileArtifact | TemplateArtifact | ImageArtifact;

/** Values for the template's parameters: given ones, else their defaults. */
export type KnownParameters = Readonly<Record<string, string>>;

/** Given values, else each parameter's Default (as text). */
export function knownParameters(template: any, given: Readonly<Record<string, string>> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, p] of Object.entries<any>(template.Parameters ?? {})) {
    if (name in given) out[name] = given[name];
    else if (p && p.Default !== undefined && p.Default !== null && typeof p.Default !== 'object') out[name] = String(p.Default);
  }
  for (const [name, value] of Object.entries(given)) out[name] ??= value;
  return out;
}

/**
 * Every artifact of a template, with Globals and known parameters applied.
 * @throws Error naming the template, the resource and the reason for what cannot be packaged
 */
export function planSamPackaging(template: any, templateFile: string, parameters: KnownParameters = {}): Artifact[] {
  const dir = path.dirname(path.resolve(templateFile));
  const planned: Artifact[] = [];
  // Every resource that cannot be packaged is named in one error, not one per run.
  const problems: string[] = [];
  for (const [logicalId, resource] of Object.entries<any>(template.Resources ?? {})) {
    if (typeof resource !== 'object' || resource === null) continue;
    // A function's property may come from the template's Globals, which is where to fix it.
    let fromGlobals = (_property: string) => false;
    const failOn = (property?: string) => (why: string): never => {
      const where = property && fromGlobals(property) ? ` (${property} comes from the template's Globals.Function)` : '';
      throw new PlanProblem(`${templateFile}: resource ${logicalId} (${resource?.Type}): ${why}${where}`);
    };
    const fail = failOn();
    const known = (value: unknown, property: string) => resolveKnown(value, parameters, property, failOn(property));
    try {
      const props: Record<string, any> = resource.Properties ?? {};
      const at = (...p: string[]): TemplatePath => ['Resources', logicalId, 'Properties', ...p];
      /**
       * A function of either type, from its (Globals-merged) properties: a .zip is uploaded as
       * it is; a folder is a Python function to build.
       */
      const planFunction = (fn: Record<string, any>, property: 'CodeUri' | 'Code', location: unknown, zipStyle: 'serverless-code' | 'lambda-code') => {
        const folder = localPath(location, property, dir, failOn(property), 'code');
        if (!folder) return;
        if (isZipFile(folder)) {
          planned.push({ kind: 'file', logicalId, file: folder, style: zipStyle, path: at(property) });
          return;
        }
        functionBuildMethod(known(resource.Metadata?.BuildMethod, 'Metadata.BuildMethod'), fail);
        const runtime = known(fn.Runtime, 'Runtime');
        // Another language's folder is zipped as it is, which is what sam package does with a folder it was not asked to build.
        const plain = typeof runtime === 'string' && OTHER_RUNTIMES.test(runtime);
        const pythonRuntimeName = plain ? undefined : pythonRuntime(runtime, failOn('Runtime'));
        const arch = architectures(knownList(fn.Architectures, 'Architectures', known), failOn('Architectures'));
        const handler = known(fn.Handler, 'Handler');
        planned.push({
          kind: 'code',
          logicalId,
          type: resource.Type,
          folder,
          build: plain ? 'plain' : 'python',
          runtime: pythonRuntimeName,
          architectures: arch,
          handler: plain ? (typeof handler === 'string' ? handler : '') : handlerOf(handler, failOn('Handler')),
          layerRefs: layerRefs(fn.Layers),
          ephemeralMb: sizeOf(fn.EphemeralStorage),
          path: at(property),
          warnings: plain ? [`its Runtime is ${runtime}, and possum-cdk builds Python only, so ${property} ${folder} is zipped as it is, as ` +
            'sam package does: nothing is installed or compiled (node_modules and the rest of the folder are kept; files that look like ' +
            `secrets are left out). If it needs a build, build it first (sam build) and point ${property} at the result.`]
            : missingHandlerModule(folder, handler as string, fn.Layers, property, fromGlobals('Handler')),
        });
      };
      switch (resource.Type) {
        case 'AWS::Serverless::Function': {
          const merged = resolvedProperties(template, logicalId);
          fromGlobals = property => props[property] === undefined && merged[property] !== undefined;
          // SAM takes a function with an ImageUri and no code or PackageType as an image function.
          const image = merged.PackageType === 'Image' ||
            (merged.PackageType === undefined && merged.ImageUri !== undefined && merged.CodeUri === undefined && merged.InlineCode === undefined);
          if (image) {
            if (merged.ImageUri === undefined) planned.push({ kind: 'image', logicalId, problem: imageProblem(resource.Metadata), path: at('ImageUri') });
            break;
          }
          if (merged.InlineCode !== undefined) break;
          // `sam package` zips the template's own folder for a function without a CodeUri.
          if (isRemoteIntrinsic(merged.CodeUri)) break;
          planFunction(merged, 'CodeUri', merged.CodeUri === undefined ? '.' : known(merged.CodeUri, 'CodeUri'), 'serverless-code');
          break;
        }
        case 'AWS::Serverless::LayerVersion':
        case 'AWS::Lambda::LayerVersion': {
          const property = resource.Type === 'AWS::Serverless::LayerVersion' ? 'ContentUri' : 'Content';
          const content = props[property];
          if (isRemoteIntrinsic(content) || (content !== null && typeof content === 'object' && !isIntrinsic(content))) break; // S3
          const folder = localPath(known(content, property), property, dir, fail, 'code');
          if (!folder) break;
          if (isZipFile(folder)) {
            planned.push({ kind: 'file', logicalId, file: folder, style: property === 'ContentUri' ? 'serverless-code' : 'lambda-code', path: at(property) });
            break;
          }
          // sam build reads BuildMethod on both layer types: python3.x puts dependencies and the folder's files under python/.
          const buildMethod = known(resource.Metadata?.BuildMethod, 'Metadata.BuildMethod');
          if (buildMethod !== undefined && (typeof buildMethod !== 'string' || !/^python3\.\d+$/.test(buildMethod))) {
            fail(`Metadata.BuildMethod is ${JSON.stringify(buildMethod)}; possum-cdk builds python3.x layers (dependencies and the folder's ` +
            'files under python/) and layers without a BuildMethod (the folder zipped as it is). Build this one with sam build, or point ' +
            `${property} at S3.`);
          }
          // SAM puts a python3.x layer's own files under python/: a folder that already has python/ ends up in python/python/.
          const nestedPython = buildMethod && isDirectory(path.join(folder, 'python'));
          planned.push({
            kind: 'code',
            logicalId,
            type: resource.Type,
            warnings: nestedPython ? [`${property} ${folder} has a python/ folder, and with Metadata.BuildMethod ${buildMethod} its files go under ` +
            'python/ as they are (as sam build does), so that folder lands at python/python/ where Lambda does not look. Point ' +
            `${property} at the python/ folder itself, or move its contents up.`] : undefined,
            folder,
            build: buildMethod ? 'python' : 'plain',
            runtime: buildMethod ? pythonRuntime(buildMethod, fail) : undefined,
            architectures: [layerArchitecture(resource.Metadata?.BuildArchitecture, props.CompatibleArchitectures, known, fail)],
            layerRefs: [],
            path: at(property),
          });
          break;
        }
        case 'AWS::Lambda::Function': {
          if (typeof props.Code !== 'string' && !isIntrinsic(props.Code)) break; // S3Bucket/S3Key, ZipFile or ImageUri
          planFunction(props, 'Code', known(props.Code, 'Code'), 'lambda-code');
          break;
        }
        case 'AWS::Serverless::Api':
        case 'AWS::Serverless::HttpApi':
        case 'AWS::Serverless::StateMachine': {
          if (typeof props.DefinitionUri !== 'string') break;
          const file = localPath(props.DefinitionUri, 'DefinitionUri', dir, fail, 'file');
          if (!file) break;
          planned.push({ kind: 'file', logicalId, file, style: resource.Type === 'AWS::Serverless::StateMachine' ? 'bucket-key' : 'uri', path: at('DefinitionUri') });
          break;
        }
        case 'AWS::Serverless::Application': {
          if (typeof props.Location !== 'string') break; // {ApplicationId, SemanticVersion}: from the Serverless Application Repository
          if (/^https?:\/\//.test(props.Location)) break;
          const file = localPath(props.Location, 'Location', dir, fail, 'file');
          if (file) planned.push({ kind: 'template', logicalId, file, path: at('Location') });
          break;
        }
        case 'AWS::CloudFormation::Stack': {
          if (typeof props.TemplateURL !== 'string' || /^https?:\/\//.test(props.TemplateURL)) break;
          const file = localPath(props.TemplateURL, 'TemplateURL', dir, fail, 'file');
          if (file) planned.push({ kind: 'template', logicalId, file, path: at('TemplateURL') });
          break;
        }
      }
    } catch (e) {
      if (!(e instanceof PlanProblem)) throw e;
      problems.push(e.message);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  planned.push(...includes(template, dir, templateFile));
  return withArchitectureWarnings(planned);
}

/** What makes one resource impossible to package (collected, then reported together). */
class PlanProblem extends Error {}

/** A function whose layer in this template was built for another architecture gets a warning: its native code would not load. */
function withArchitectureWarnings(planned: Artifact[]): Artifact[] {
  const layers = new Map(planned.filter((a): a is CodeArtifact => a.kind === 'code' && a.build === 'python' && a.type.endsWith('::LayerVersion'))
    .map(a => [a.logicalId, a]));
  return planned.map(a => {
    if (a.kind !== 'code' || !a.handler) return a;
    const mismatched = a.layerRefs.map(r => layers.get(r))
      .filter((l): l is CodeArtifact => !!l && !l.architectures.some(x => a.architectures.includes(x)));
    if (mismatched.length === 0) return a;
    const warnings = mismatched.map(l => `its layer ${l.logicalId} is built for ${l.architectures.join(', ')} but the function runs on ` +
      `${a.architectures.join(', ')}: the layer's native code would not load. Set the layer's Metadata.BuildArchitecture to ` +
      `${a.architectures[0]} (or the function's Architectures to match).`);
    return { ...a, warnings: [...a.warnings ?? [], ...warnings] };
  });
}

/**
 * `Fn::Transform: {Name: AWS::Include, Parameters: {Location: ./snippet.yaml}}` anywhere in
 * the template: the snippet is uploaded and the Location becomes its s3:// URI.
 */
function includes(template: any, dir: string, templateFile: string): FileArtifact[] {
  const out: FileArtifact[] = [];
  const walk = (value: any, at: string[]) => {
    const last = at[at.length - 1];
    if (last === 'Transform' || last === 'Fn::Transform') {
      const list: Array<[any, string[]]> = Array.isArray(value) ? value.map((v, i) => [v, [...at, String(i)]]) : [[value, at]];
      for (const [t, tAt] of list) {
        const location = t?.Name === 'AWS::Include' ? t?.Parameters?.Location : undefined;
        if (typeof location !== 'string' || /^(s3|https?):\/\//.test(location)) continue;
        const fail = (why: string): never => {
          throw new Error(`${templateFile}: AWS::Include at ${tAt.join('.')}: ${why}`);
        };
        out.push({ kind: 'file', file: localPath(location, 'Location', dir, fail, 'file')!, style: 'uri', path: [...tAt, 'Parameters', 'Location'] });
      }
    }
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...at, String(i)]));
    else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) walk(v, [...at, k]);
  };
  walk(template, []);
  return out;
}

/**
 * A value whose parameters are known: `Ref` to a parameter with a given value or Default,
 * `Fn::Sub` of those; plain values pass through.
 * @throws Error naming the property and parameter when a value depends on what is unknown
 */
export function resolveKnown(value: unknown, parameters: KnownParameters, property: string, fail: (why: string) => never): any {
  if (!isIntrinsic(value)) return value;
  const [fn, arg] = Object.entries(value as Record<string, unknown>)[0];
  if (fn === 'Ref' && typeof arg === 'string') {
    if (arg in parameters) return parameters[arg];
    return fail(`its ${property} is !Ref ${arg}, which is not a parameter with a value or Default; possum-cdk needs to know it to package ` +
      'the code. Give the parameter a Default or a value (SamTemplatePackager\'s parameters, possum\'s --parameter-overrides), ' +
      'or write the value in the template.');
  }
  if (fn === 'Fn::Sub' && typeof arg === 'string') {
    return arg.replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
      if (name in parameters) return parameters[name];
      return fail(`its ${property} (${arg}) uses \${${name}}, whose value is not known when packaging; write the value in the template, ` +
        'or use a parameter with a Default.');
    });
  }
  return fail(`its ${property} is an intrinsic function (${fn}) whose value possum-cdk cannot know when packaging; write the value in the template.`);
}

/** An intrinsic that builds an S3 URI (`!Sub s3://bucket-\${AWS::Region}/code.zip`): remote code, not a local path. */
function isRemoteIntrinsic(value: unknown): boolean {
  if (!isIntrinsic(value)) return false;
  const [fn, arg] = Object.entries(value as Record<string, any>)[0];
  const text = fn === 'Fn::Sub' ? (Array.isArray(arg) ? arg[0] : arg) : fn === 'Fn::Join' && Array.isArray(arg?.[1]) ? arg[1][0] : undefined;
  return typeof text === 'string' && /^(s3|https?):\/\//.test(text);
}

/** The absolute local path a location names, or undefined when it is remote. */
function localPath(location: unknown, property: string, dir: string, fail: (why: string) => never,
  want: 'folder' | 'file' | 'code'): string | undefined {
  if (location === undefined || location === null) return undefined;
  if (typeof location === 'object') return undefined; // {Bucket, Key}
  if (typeof location !== 'string') return fail(`${property} must be a path or an S3 location, not ${JSON.stringify(location)}.`);
  // Remote locations, and CloudFormation dynamic references resolved at deploy time.
  if (/^(s3|https?):\/\//.test(location) || location.includes('{{resolve:')) return undefined;
  // Relative to the template's folder, and allowed to leave it (`CodeUri: ../src`), as sam build and sam package do.
  const target = path.resolve(dir, location);
  if (!fs.existsSync(target)) fail(`${property} ${location} does not exist (looked for ${target}).`);
  const isDir = fs.statSync(target).isDirectory();
  if (want === 'folder' && !isDir) fail(`${property} ${location} is a file; possum-cdk packages folders (point ${property} at the code's folder).`);
  if (want === 'code' && !isDir && !isZipFile(target)) {
    fail(`${property} ${location} is a file but not a .zip; point ${property} at the code's folder, or at a .zip to upload as it is.`);
  }
  if (want === 'file' && isDir) fail(`${property} ${location} is a folder; it must name a file.`);
  return target;
}

/** A prebuilt code archive, uploaded as it is (what `sam package` does with a .zip or .jar). */
function isZipFile(p: string): boolean {
  return /\.(zip|jar)$/i.test(p) && fs.statSync(p).isFile();
}

/**
 * A function's Metadata.BuildMethod: sam build runs a makefile, esbuild and the like, which
 * possum-cdk does not; building such a function as plain Python would ship the wrong thing.
 */
function imageProblem(metadata: any): string {
  const context = typeof metadata?.DockerContext === 'string' ? ` (Metadata.DockerContext ${metadata.DockerContext})` : '';
  return `it is a container image function (PackageType: Image) with no ImageUri, whose image sam build would build${context}. ` +
    'possum-cdk packages zip code and builds no images. Build and push the image (sam build, then sam package --image-repository; ' +
    'or docker build and push to ECR) and set ImageUri to its URI, or give it an ImageUri some other way.';
}

function functionBuildMethod(buildMethod: unknown, fail: (why: string) => never): void {
  if (buildMethod === undefined || (typeof buildMethod === 'string' && /^python3\.\d+$/.test(buildMethod))) return;
  fail(`Metadata.BuildMethod is ${JSON.stringify(buildMethod)}, a build possum-cdk does not run (it builds Python functions from their ` +
    'folder and dependency manifest, as sam build does for a python3.x runtime). Either run sam build and package its output ' +
    '(.aws-sam/build/template.yaml, whose CodeUri points at the built folder), or, if the folder is plain Python code with a ' +
    'requirements.txt, remove the BuildMethod so possum-cdk builds it (your makefile will then not run).');
}

/**
 * The architecture a layer's dependencies are built for: Metadata.BuildArchitecture, as sam
 * build reads it; else arm64 for a layer only compatible with arm64; else x86_64.
 */
function layerArchitecture(buildArchitecture: unknown, compatible: unknown, known: (v: unknown, p: string) => any,
  fail: (why: string) => never): string {
  const value = known(buildArchitecture, 'Metadata.BuildArchitecture');
  if (value !== undefined) {
    if (value !== 'x86_64' && value !== 'arm64') return fail(`Metadata.BuildArchitecture ${JSON.stringify(value)} must be x86_64 or arm64.`);
    return value;
  }
  const list = knownList(compatible, 'CompatibleArchitectures', known);
  if (list !== undefined) architectures(list, fail);
  return Array.isArray(list) && list.length === 1 && list[0] === 'arm64' ? 'arm64' : 'x86_64';
}

/** Lambda's runtimes for other languages, whose local code is zipped as it is. */
const OTHER_RUNTIMES = /^(nodejs\d+\.x|java\d+(\.al2)?|dotnet\d+|dotnetcore\d\.\d|ruby\d\.\d+|provided(\.al2(023)?)?|go1\.x)$/;

function pythonRuntime(runtime: unknown, fail: (why: string) => never): string {
  if (typeof runtime !== 'string') {
    return fail(`its Runtime is ${runtime === undefined ? 'missing' : 'not a plain string'}; possum-cdk needs a python3.x runtime to package local code.`);
  }
  if (!/^python/i.test(runtime.trim())) {
    return fail(`its code is a local folder but its Runtime is ${runtime}, which is not a Lambda runtime possum-cdk knows ` +
      '(python3.x builds; nodejs, java, dotnet, ruby, provided and go1.x are zipped as they are). Check the runtime\'s name.');
  }
  // One rule for the construct and templates: the same runtimes accepted, in the same words.
  const problem = pythonRuntimeProblem(runtime);
  return problem ? fail(`its Runtime is ${problem}`) : runtime;
}

/**
 * A list property with parameters resolved: the list itself (`!Ref ArchList`, a
 * CommaDelimitedList parameter) or its items (`[!Ref Arch]`).
 */
function knownList(value: unknown, property: string, known: (v: unknown, p: string) => any): unknown {
  const resolved = known(value, property);
  if (typeof resolved === 'string' && isIntrinsic(value)) return resolved.split(',').map(v => v.trim());
  return Array.isArray(resolved) ? resolved.map(v => known(v, property)) : resolved;
}

function architectures(value: unknown, fail: (why: string) => never): string[] {
  if (value === undefined) return ['x86_64'];
  if (!Array.isArray(value) || value.length === 0 || value.some(v => v !== 'x86_64' && v !== 'arm64')) {
    return fail(`its architectures ${JSON.stringify(value)} must be a list of x86_64 and/or arm64.`);
  }
  return value as string[];
}

function handlerOf(handler: unknown, fail: (why: string) => never): string {
  if (typeof handler !== 'string' || !handler.includes('.')) {
    return fail(`its Handler ${JSON.stringify(handler)} must be a plain module.function string.`);
  }
  return handler;
}

/**
 * A warning when a Python function's Handler names a module its folder does not hold and it
 * has no layers to bring it: Lambda would fail every invocation with "Unable to import
 * module". A module from the function's own dependencies is possible, so this warns and
 * does not fail. Lambda's Python runtime reads `/` in the module part as `.`.
 */
function missingHandlerModule(folder: string, handler: string, layers: unknown, property: string, fromGlobals: boolean): string[] | undefined {
  if (Array.isArray(layers) ? layers.length > 0 : layers !== undefined) return undefined;
  const module = handlerModuleOf(handler);
  if (!module) return undefined; // not a module path Python could import anyway
  const parts = modulePath(module);
  // A uv.lock project in src layout is installed itself, so its package under src/ is in the bundle.
  const installedSrc = fs.existsSync(path.join(folder, 'uv.lock')) && findModule(path.join(folder, 'src'), module) !== undefined;
  if (findModule(folder, module) || installedSrc || namedByManifest(folder, parts[0])) return undefined;
  const rel = parts.join('/');
  return [`its Handler ${handler}${fromGlobals ? " (from the template's Globals.Function)" : ''} names the module ${module}, but ${property} ` +
    `${folder} has no ${rel}.py or ${rel}/, and the function has no Layers: Lambda would fail with "Unable to import module '${module}'". ` +
    `Give Handler as the module's path under ${property} (e.g. app.lambda_handler for ${property}/app.py), or point ${property} at the ` +
    'folder that holds it. (If one of its dependencies provides that module, all is well.)'];
}

/**
 * Whether the folder's requirements.txt, Pipfile or pyproject.toml asks for a project
 * spelled like the module (`datadog-lambda` for `datadog_lambda`): a handler from an
 * installed dependency, such as a tracing wrapper, is then likely and worth no warning.
 * Names compare as pip compares them (case, `-`, `_` and `.` alike). The project's own
 * `name =` does not count: without a uv.lock possum-cdk installs a project's dependencies,
 * not the project (missingHandlerModule looks at src/ itself when there is one). Lock files
 * are not read: they also list the project itself, and a direct dependency is in its
 * manifest anyway. A module whose project is named otherwise (`dateutil` from
 * python-dateutil) still gets the warning, which says so.
 */
function namedByManifest(folder: string, module: string): boolean {
  const normal = (text: string) => text.toLowerCase().replace(/[-_.]+/g, '_');
  const word = new RegExp(`(^|[^a-z0-9_])${normal(module)}([^a-z0-9_]|$)`, 'm');
  return ['requirements.txt', 'Pipfile', 'pyproject.toml'].some(name => {
    const file = path.join(folder, name);
    if (!isFile(file)) return false;
    const text = fs.readFileSync(file, 'utf8').split('\n').filter(l => !/^\s*name\s*=/.test(l)).join('\n');
    return word.test(normal(text));
  });
}

function layerRefs(layers: unknown): string[] {
  if (!Array.isArray(layers)) return [];
  return layers.flatMap(l => (isIntrinsic(l) && typeof (l as any).Ref === 'string' ? [(l as any).Ref as string] : []));
}

function sizeOf(storage: unknown): number | undefined {
  const size = (storage as any)?.Size;
  return typeof size === 'number' ? size : undefined;
}

/**
 * Plans a template and every template it nests, before anything is built or uploaded, so a
 * problem three templates down is reported before the first install (and upload) starts.
 * Nested templates get their parameters from the parent at deploy time: only their Defaults are known.
 * Returns every template's artifacts.
 */
export function planTemplateTree(template: any, templateFile: string, parameters: KnownParameters, read: (file: string) => any,
  chain: readonly string[] = [templateFile]): Array<{ templateFile: string; artifact: Artifact }> {
  const all: Array<{ templateFile: string; artifact: Artifact }> = [];
  for (const a of planSamPackaging(template, templateFile, parameters)) {
    all.push({ templateFile, artifact: a });
    if (a.kind !== 'template') continue;
    if (chain.includes(a.file)) throw new Error(`${a.file} nests itself (through ${a.logicalId} in ${templateFile}).`);
    const child = read(a.file);
    all.push(...planTemplateTree(child, a.file, knownParameters(child), read, [...chain, a.file]));
  }
  return all;
}
