import * as fs from 'fs';
import * as path from 'path';
import { isIntrinsic, resolvedProperties } from './globals';

/** A resource of the template whose code possum-cdk builds from a local folder. */
export interface PackagedResource {
  readonly logicalId: string;
  readonly type: 'AWS::Serverless::Function' | 'AWS::Serverless::LayerVersion' | 'AWS::Lambda::Function';
  /** Absolute folder with the code (and its dependency manifest). */
  readonly folder: string;
  /** Lambda runtime name, e.g. python3.12 (a layer: its BuildMethod). */
  readonly runtime: string;
  /** Architecture names (x86_64 / arm64). */
  readonly architectures: string[];
  /** The handler string (functions only). */
  readonly handler?: string;
  /** Logical IDs of layers this function references with Ref. */
  readonly layerRefs: string[];
}

/**
 * Which resources of a SAM template have local code to package, with Globals applied.
 * S3 locations, inline code, images and other resource types are left alone.
 *
 * @throws Error naming the template, the resource and the reason for what cannot be packaged.
 */
export function planSamPackaging(template: any, templateFile: string): PackagedResource[] {
  const dir = path.dirname(path.resolve(templateFile));
  const planned: PackagedResource[] = [];
  for (const [logicalId, resource] of Object.entries<any>(template.Resources ?? {})) {
    const fail = (why: string): never => {
      throw new Error(`${templateFile}: resource ${logicalId} (${resource?.Type}): ${why}`);
    };
    const type = resource?.Type;
    if (type === 'AWS::Serverless::Function') {
      const props = resolvedProperties(template, logicalId);
      if (props.PackageType === 'Image' || props.InlineCode !== undefined) continue;
      const folder = localFolder(props.CodeUri, 'CodeUri', dir, fail);
      if (!folder) continue;
      const runtime = pythonRuntime(props.Runtime, fail);
      planned.push({
        logicalId,
        type,
        folder,
        runtime,
        architectures: architectures(props.Architectures, fail),
        handler: handlerOf(props.Handler, fail),
        layerRefs: layerRefs(props.Layers),
      });
    } else if (type === 'AWS::Serverless::LayerVersion') {
      const props = resource.Properties ?? {};
      const folder = localFolder(props.ContentUri, 'ContentUri', dir, fail);
      if (!folder) continue;
      const buildMethod = resource.Metadata?.BuildMethod;
      if (typeof buildMethod !== 'string' || !/^python3\.\d+$/.test(buildMethod)) {
        fail(`its ContentUri ${props.ContentUri} is a local folder, but Metadata.BuildMethod is ${JSON.stringify(buildMethod)}; ` +
          'possum-cdk builds Python layers: set Metadata.BuildMethod to the runtime, for example python3.12.');
      }
      planned.push({
        logicalId,
        type,
        folder,
        runtime: buildMethod,
        architectures: architectures(props.CompatibleArchitectures, fail),
        layerRefs: [],
      });
    } else if (type === 'AWS::Lambda::Function') {
      const props = resource.Properties ?? {};
      if (typeof props.Code !== 'string') continue; // S3Bucket/S3Key, ZipFile or ImageUri
      const folder = localFolder(props.Code, 'Code', dir, fail)!;
      planned.push({
        logicalId,
        type,
        folder,
        runtime: pythonRuntime(props.Runtime, fail),
        architectures: architectures(props.Architectures, fail),
        handler: handlerOf(props.Handler, fail),
        layerRefs: layerRefs(props.Layers),
      });
    }
  }
  return planned;
}

/** The absolute local folder a code location names, or undefined when it is remote. */
function localFolder(location: unknown, property: string, dir: string, fail: (why: string) => never): string | undefined {
  if (location === undefined) return undefined;
  if (typeof location === 'object' && location !== null && !isIntrinsic(location)) return undefined; // {Bucket, Key}
  if (isIntrinsic(location)) fail(`${property} is an intrinsic function; possum-cdk packages local folders named by a plain path.`);
  if (typeof location !== 'string') return fail(`${property} must be a path or an S3 location.`);
  if (/^s3:\/\//.test(location)) return undefined;
  const folder = path.resolve(dir, location);
  const inside = (p: string) => p === dir || p.startsWith(dir + path.sep);
  if (!inside(folder) || (fs.existsSync(folder) && !inside(fs.realpathSync(folder)))) {
    fail(`${property} ${location} is outside the template's folder ${dir}; move the code under it.`);
  }
  if (!fs.existsSync(folder)) fail(`${property} ${location} does not exist (looked for ${folder}).`);
  if (!fs.statSync(folder).isDirectory()) fail(`${property} ${location} is a file; possum-cdk packages folders (point ${property} at the code's folder).`);
  return folder;
}

function pythonRuntime(runtime: unknown, fail: (why: string) => never): string {
  if (typeof runtime !== 'string') {
    return fail(`its Runtime is ${runtime === undefined ? 'missing' : 'not a plain string'}; possum-cdk needs a python3.x runtime to package local code.`);
  }
  if (!/^python3\.\d+$/.test(runtime)) {
    return fail(`its code is a local folder but its Runtime is ${runtime}; possum-cdk packages Python functions only ` +
      '(package this one with its own tool, or point its CodeUri at S3).');
  }
  return runtime;
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

function layerRefs(layers: unknown): string[] {
  if (!Array.isArray(layers)) return [];
  return layers.flatMap(l => (isIntrinsic(l) && typeof (l as any).Ref === 'string' ? [(l as any).Ref as string] : []));
}
