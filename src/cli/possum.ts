#!/usr/bin/env node
/**
 * possum: packages the Python functions and layers of an AWS SAM template without Docker,
 * uploads them to S3 and prints the deployment template.
 *
 *   possum S3_BUCKET[/PREFIX] [-t template.yaml] [-o output.yaml] [-p profile] [-c] [--endpoint-url URL] [--region R]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as YAML from 'yaml';
import { PythonPipfileBundlingOptions } from '../bundling-options';
import { bundleRequest } from '../private/bundle-request';
import { buildBundle, planBundle } from '../private/bundler';
import { nestedEphemeralStorageMb } from '../private/ephemeral-storage';
import { PackagedResource, planSamPackaging } from '../private/sam/plan';
import { deploymentTemplate, UploadedCode } from '../private/sam/rewrite';
import { readTemplate } from '../private/sam/template';
import { describeLargest, LAMBDA_UNZIPPED_LIMIT_BYTES, ZipReport } from '../private/zip/engine';

const USAGE = `usage: possum S3_BUCKET[/PREFIX] [-t TEMPLATE] [-o OUTPUT] [-p PROFILE] [-c] [--endpoint-url URL] [--region REGION]

Packages every Python function and layer of an AWS SAM template whose code is a local
folder (no Docker: manylinux wheels for the function's runtime and architecture), uploads
the zips to S3 and prints the deployment template, with CodeUri/ContentUri pointing at them.
Zips are content-addressed: an unchanged function is neither rebuilt nor uploaded again.

  S3_BUCKET[/PREFIX]     where the zips go (s3://BUCKET/PREFIX/<sha256>.zip)
  -t, --template FILE    the SAM template (default: template.yaml)
  -o, --output FILE      write the deployment template here instead of stdout
  -p, --profile NAME     AWS profile for credentials and region
  -c, --clean            rebuild everything (ignore the build cache) and upload again
  --index-url URL        package index for the dependencies (credentials in it are never printed)
  --extra-index-url URL  another package index (repeatable)
  --find-links DIR|URL   wheels to install from (repeatable)
  --endpoint-url URL     an S3-compatible endpoint
  --region REGION        AWS region (default: the profile's or environment's)
  -h, --help             show this help

Progress goes to stderr. On any failure nothing is written to the output.`;

class UsageError extends Error {}

interface Args {
  readonly bucket: string;
  readonly prefix: string;
  readonly template: string;
  readonly output?: string;
  readonly profile?: string;
  readonly clean: boolean;
  readonly endpointUrl?: string;
  readonly region?: string;
  readonly indexUrl?: string;
  readonly extraIndexUrls: string[];
  readonly findLinks: string[];
}

function parseArgs(argv: readonly string[]): Args | 'help' {
  const positional: string[] = [];
  const values: Record<string, string> = {};
  const repeated: Record<string, string[]> = { '--extra-index-url': [], '--find-links': [] };
  let clean = false;
  const aliases: Record<string, string> = {
    '-t': '--template', '--template-file': '--template', '-o': '--output', '--output-template-file': '--output', '-p': '--profile',
  };
  const valued = ['--template', '--output', '--profile', '--endpoint-url', '--region', '--index-url', '--extra-index-url', '--find-links'];
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    if (raw === '-h' || raw === '--help') return 'help';
    if (raw === '-c' || raw === '--clean') {
      clean = true;
      continue;
    }
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const name = aliases[eq > 0 ? raw.slice(0, eq) : raw] ?? (eq > 0 ? raw.slice(0, eq) : raw);
    if (valued.includes(name)) {
      const value = eq > 0 ? raw.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${raw} needs a value.`);
      if (name in repeated) repeated[name].push(value);
      else values[name] = value;
    } else if (raw.startsWith('-')) {
      throw new UsageError(`unknown option ${raw}.`);
    } else {
      positional.push(raw);
    }
  }
  if (positional.length !== 1) {
    throw new UsageError(positional.length === 0 ? 'S3_BUCKET is required.' : `expected one S3_BUCKET, got ${positional.join(' ')}.`);
  }
  const target = positional[0].replace(/^s3:\/\//, '');
  const [bucket, ...rest] = target.split('/');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new UsageError(`${bucket} is not a valid S3 bucket name.`);
  }
  const prefix = rest.filter(Boolean).join('/');
  return {
    bucket,
    prefix: prefix ? `${prefix}/` : '',
    template: values['--template'] ?? 'template.yaml',
    output: values['--output'],
    profile: values['--profile'],
    clean,
    endpointUrl: values['--endpoint-url'],
    region: values['--region'],
    indexUrl: values['--index-url'],
    extraIndexUrls: repeated['--extra-index-url'],
    findLinks: repeated['--find-links'],
  };
}

interface Built {
  readonly zip: string;
  readonly report: ZipReport;
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: Args | 'help';
  try {
    args = parseArgs(argv);
  } catch (e: any) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`possum: error: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (args.profile) process.env.AWS_PROFILE = args.profile;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'possum-'));
  try {
    const templateFile = path.resolve(args.template);
    const template = readTemplate(templateFile);
    const planned = planSamPackaging(template, templateFile);
    process.stderr.write(`possum: ${planned.length} function(s) and layer(s) with local code in ${templateFile}\n`);

    const options = {
      cacheDir: args.clean ? path.join(scratch, 'clean-cache') : undefined,
      indexUrl: args.indexUrl,
      extraIndexUrls: args.extraIndexUrls,
      findLinks: args.findLinks,
    };
    const built = buildAll(planned, templateFile, options, scratch);
    const s3 = new S3Client({
      region: args.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      endpoint: args.endpointUrl,
      forcePathStyle: args.endpointUrl !== undefined,
      maxAttempts: 3,
    });
    const uploads: UploadedCode[] = [];
    const sent = new Map<string, Promise<boolean>>();
    for (const resource of planned) {
      const { zip, report } = built.get(resource.logicalId)!;
      const key = `${args.prefix}${report.sha256}.zip`;
      if (!sent.has(key)) sent.set(key, upload(s3, args.bucket, key, zip, args.clean, args.endpointUrl));
      await sent.get(key);
      uploads.push({
        resource,
        bucket: args.bucket,
        key,
        nestedEphemeralMb: report.nested
          ? nestedEphemeralStorageMb(`${templateFile}: ${resource.logicalId}`, report.unzippedBytes, report.files,
            ephemeralRequest(template, resource), describeLargest(report.largest)).sizeMb
          : undefined,
      });
    }
    const uploaded = (await Promise.all(sent.values())).filter(Boolean).length;
    const text = YAML.stringify(deploymentTemplate(template, uploads), { lineWidth: 0 });
    if (args.output) {
      const tmp = `${args.output}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, args.output);
    } else {
      process.stdout.write(text);
    }
    process.stderr.write(`possum: ${sent.size} zip(s): ${uploaded} uploaded, ${sent.size - uploaded} already in s3://${args.bucket}/${args.prefix}\n`);
    return 0;
  } catch (e: any) {
    process.stderr.write(`possum: error: ${e?.message ?? e}\n`);
    if (args.output) process.stderr.write(`possum: nothing was written to ${args.output}\n`);
    return 1;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Builds every planned resource (layers first, so functions can count them against the limit). */
function buildAll(planned: PackagedResource[], templateFile: string, options: PythonPipfileBundlingOptions, scratch: string): Map<string, Built> {
  const built = new Map<string, Built>();
  const byKey = new Map<string, Built>();
  const layerBytes = new Map<string, number>();
  const isLayer = (r: PackagedResource) => r.type === 'AWS::Serverless::LayerVersion';
  for (const resource of [...planned].sort((a, b) => Number(isLayer(b)) - Number(isLayer(a)))) {
    const plan = planBundle(bundleRequest({
      label: `${path.basename(templateFile)}: ${resource.logicalId}`,
      entry: resource.folder,
      runtime: resource.runtime,
      architectures: resource.architectures,
      options,
      includeCode: !isLayer(resource),
      dependencyPrefix: isLayer(resource) ? 'python' : '',
      loader: isLayer(resource) ? undefined : { kind: 'handler' },
      limitBytes: LAMBDA_UNZIPPED_LIMIT_BYTES - resource.layerRefs.reduce((s, ref) => s + (layerBytes.get(ref) ?? 0), 0),
    }));
    let result = byKey.get(plan.bundleKey);
    if (!result) {
      const zip = path.join(scratch, `${plan.bundleKey}.zip`);
      result = { zip, report: buildBundle(plan, zip) };
      byKey.set(plan.bundleKey, result);
    }
    built.set(resource.logicalId, result);
    if (isLayer(resource)) layerBytes.set(resource.logicalId, result.report.unzippedBytes);
  }
  return built;
}

/** Uploads unless the object is already there (content-addressed); true when it uploaded. */
async function upload(s3: S3Client, bucket: string, key: string, zip: string, force: boolean, endpoint?: string): Promise<boolean> {
  const where = `s3://${bucket}/${key}${endpoint ? ` at ${endpoint}` : ''}`;
  try {
    if (!force) {
      try {
        await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        process.stderr.write(`possum: ${where} is already there, not uploaded again\n`);
        return false;
      } catch (e: any) {
        if (e?.$metadata?.httpStatusCode !== 404 && e?.name !== 'NotFound') throw e;
      }
    }
    const body = fs.readFileSync(zip);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentType: 'application/zip' }));
    process.stderr.write(`possum: uploaded ${where} (${body.length} bytes)\n`);
    return true;
  } catch (e: any) {
    const detail = e?.message || e?.name || String(e);
    throw new Error(`uploading to ${where} failed: ${detail}${e?.code ? ` (${e.code})` : ''}. Check the bucket, credentials and endpoint.`);
  }
}

function ephemeralRequest(template: any, resource: PackagedResource): number | undefined {
  const own = template.Resources[resource.logicalId]?.Properties?.EphemeralStorage?.Size
    ?? (resource.type === 'AWS::Serverless::Function' ? template.Globals?.Function?.EphemeralStorage?.Size : undefined);
  return typeof own === 'number' ? own : undefined;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(code => { process.exitCode = code; }, e => {
    process.stderr.write(`possum: internal error: ${e?.stack ?? e}\n`);
    process.exitCode = 1;
  });
}
