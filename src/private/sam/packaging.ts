import * as fs from 'fs';
import * as path from 'path';
import { DefaultExcludes, PythonPipfileBundlingOptions } from '../../bundling-options';
import { BundleInput } from '../bundle-request';
import { nestedEphemeralStorageMb } from '../ephemeral-storage';
import { handlerModuleOf } from '../handler-module';
import { Artifact, CodeArtifact, TemplatePath } from './plan';
import { describeLargest, LAMBDA_UNZIPPED_LIMIT_BYTES, ZipReport } from '../zip/engine';
import { HANDLER_LOADER_HANDLER, REAL_HANDLER_ENV } from '../zip/nested-loader';

/**
 * The packaging of a SAM template that SamTemplatePackager and the possum CLI share: the
 * order code is built in, what the engine is asked for each artifact, and the edits that
 * point the template at the packaged artifacts. Packaging changes where code lives (and, for
 * a nested bundle, the handler, one environment variable and /tmp), nothing else.
 */

/** A location in S3: plain strings (possum), or CDK tokens (the construct). */
export interface S3Object {
  readonly bucket: unknown;
  readonly key: unknown;
}

/** One change to the template: the value at `path` (parents created as maps). */
export interface Edit {
  readonly path: TemplatePath;
  readonly value: unknown;
}

/** How a location is written where it goes, by kind of artifact (the construct and the CLI differ in what is literal). */
export type LocationKind = 'serverless-code' | 'lambda-code' | 'uri-file' | 'bucket-key-file' | 'template';

export function locationKind(a: Artifact): LocationKind {
  if (a.kind === 'code') return a.type.startsWith('AWS::Serverless::') ? 'serverless-code' : 'lambda-code';
  if (a.kind === 'file') {
    if (a.style === 'serverless-code' || a.style === 'lambda-code') return a.style;
    return a.style === 'uri' ? 'uri-file' : 'bucket-key-file';
  }
  return 'template';
}

export function isLayer(a: CodeArtifact): boolean {
  return a.type === 'AWS::Serverless::LayerVersion' || a.type === 'AWS::Lambda::LayerVersion';
}

/** Code artifacts in the order they are built: layers first, so functions can count their sizes. */
export function codeInBuildOrder(artifacts: readonly Artifact[]): CodeArtifact[] {
  const code = artifacts.filter((a): a is CodeArtifact => a.kind === 'code');
  return [...code.filter(isLayer), ...code.filter(a => !isLayer(a))];
}

/** A name for an artifact in messages: the template's file name and the resource. */
export function artifactLabel(templateName: string, a: Artifact): string {
  return `${templateName}: ${a.logicalId ?? a.path.join('.')}`;
}

/**
 * What the engine builds for a code artifact: a Python function (its folder and its
 * dependencies), a python3.x layer (dependencies and the folder's own files under
 * python/, as `sam build` lays them out), or a folder zipped as it is.
 */
export function bundleInputFor(a: CodeArtifact, label: string, options: PythonPipfileBundlingOptions,
  layerBytes: ReadonlyMap<string, number>, ownFiles: readonly string[] = []): BundleInput {
  const layer = isLayer(a);
  const knownLayers = a.layerRefs.reduce((sum, ref) => sum + (layerBytes.get(ref) ?? 0), 0);
  // sam build installs a Python function's or layer's requirements.txt and nothing else: where
  // one exists it is the manifest, whatever else the folder holds (a Pipfile.lock for local work, say).
  const requirements = a.build === 'python' && fs.existsSync(path.join(a.folder, 'requirements.txt')) ? 'requirements.txt' : undefined;
  // The template, and the template possum writes, when they sit in the code's folder (a function
  // without a CodeUri is the template's folder): never part of the code, and the output changes
  // with every upload, which would make the bundle change with it.
  const inside = ownFiles.map(f => path.relative(a.folder, path.resolve(f))).filter(r => r && !r.startsWith('..') && !path.isAbsolute(r));
  const exclude = inside.length > 0 ? [...options.exclude ?? [], ...inside.map(r => `/${r.split(path.sep).join('/')}`)] : options.exclude;
  // A folder zipped as it is keeps what a build leaves for it (node_modules, a Go binary, a
  // jar): only secrets and version control stay out, not a Python function's build debris.
  const asIs = a.build === 'plain' && options.useDefaultExcludes !== false;
  const bundling = asIs
    ? { ...options, useDefaultExcludes: false, exclude: [...AS_IS_EXCLUDES, ...exclude ?? []] }
    : exclude === options.exclude ? options : { ...options, exclude };
  return {
    label,
    entry: a.folder,
    manifest: requirements,
    // A folder zipped as it is installs nothing: the runtime only names the bundle's target.
    runtime: a.runtime ?? 'python3.12',
    architectures: a.architectures,
    options: bundling,
    includeCode: true,
    installDependencies: a.build === 'python',
    codePrefix: layer && a.build === 'python' ? 'python' : '',
    dependencyPrefix: layer ? 'python' : '',
    loader: layer || a.build === 'plain' ? undefined : { kind: 'handler' },
    handlerModule: layer || a.build === 'plain' || !a.handler ? undefined : handlerModuleOf(a.handler),
    limitBytes: LAMBDA_UNZIPPED_LIMIT_BYTES - knownLayers,
  };
}

/** What a folder zipped as it is leaves out. */
const AS_IS_EXCLUDES = [...DefaultExcludes.SECRETS, '.git', '.hg', '.svn/', '.aws-sam/', 'cdk.out/', '.DS_Store', 'Thumbs.db'];

/** The location edit of an artifact, with the location written as `render` says for its kind. */
export function locationEdit(a: Artifact, object: S3Object, render: (kind: LocationKind, object: S3Object, a: Artifact) => unknown): Edit {
  return { path: a.path, value: render(locationKind(a), object, a) };
}

/** The edits and facts a nested bundle needs, and a warning when /tmp is tight. */
export interface NestedWiring {
  readonly edits: Edit[];
  readonly ephemeralMb: number;
  readonly warning?: string;
}

/**
 * For a function whose bundle is nested: its handler points at the loader, its real handler
 * goes into POSSUM_HANDLER beside its own variables (SAM merges them with Globals'), and
 * /tmp is sized for the unpacked tree (never below what it asks).
 */
export function nestedWiring(a: CodeArtifact, report: ZipReport, label: string): NestedWiring | undefined {
  if (!report.nested || !a.handler) return undefined;
  const { sizeMb, treeMb, tight } = nestedEphemeralStorageMb(label, report.unzippedBytes, report.files, a.ephemeralMb,
    describeLargest(report.largest));
  const props = ['Resources', a.logicalId, 'Properties'];
  return {
    ephemeralMb: sizeMb,
    edits: [
      { path: [...props, 'Handler'], value: HANDLER_LOADER_HANDLER },
      { path: [...props, 'Environment', 'Variables', REAL_HANDLER_ENV], value: a.handler },
      { path: [...props, 'EphemeralStorage'], value: { Size: sizeMb } },
    ],
    warning: tight ? `The nested bundle needs ${treeMb} MB of /tmp; with ${sizeMb} MB the function has only ${sizeMb - treeMb} MB left for its own files.` : undefined,
  };
}

/**
 * Applies edits to a template value (a deep copy is made). An edit whose parent is not a
 * map (an intrinsic function, say) is an error naming the path.
 */
export function applyEdits(template: any, edits: readonly Edit[], templateFile: string): any {
  const out = JSON.parse(JSON.stringify(template));
  for (const e of edits) {
    let node = out;
    for (const [i, segment] of e.path.slice(0, -1).entries()) {
      const next = Array.isArray(node) ? node[Number(segment)] : node[segment];
      if (next === undefined || next === null) {
        node[segment] = {};
      } else if (typeof next !== 'object' || (isIntrinsicValue(next) && !(e.path[i + 1] in next))) {
        throw new Error(`${templateFile}: ${e.path.slice(0, i + 1).join('.')} is ${JSON.stringify(next)}, so ${e.path.join('.')} cannot be set; ` +
          'write it as a plain map in the template.');
      }
      node = Array.isArray(node) ? node[Number(segment)] : node[segment];
    }
    node[e.path[e.path.length - 1]] = e.value;
  }
  return out;
}

function isIntrinsicValue(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0] === 'Condition' || keys[0].startsWith('Fn::'));
}
