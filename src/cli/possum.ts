#!/usr/bin/env node
/**
 * possum: packages the Python functions and layers of an AWS SAM template without Docker,
 * uploads them to S3 and prints the deployment template.
 *
 *   possum S3_BUCKET[/PREFIX] [-t template.yaml] [-o output.yaml] [-p profile] [-c] [--endpoint-url URL] [--region R]
 */
import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { S3Client } from '@aws-sdk/client-s3';
import * as YAML from 'yaml';
import { PythonPipfileBundlingOptions } from '../bundling-options';
import { Installer } from '../installer';
import { parseOrExit, runCli, UsageError } from './cli-runner';
import { bundleRequest } from '../private/bundle-request';
import { BundleJob, BundleJobResult } from '../private/bundle-worker';
import { BundlePlan, BundleRequest, buildBundle, cachedReport, planBundle } from '../private/bundler';
import { cacheRoot, CACHE_FORMAT } from '../private/cache';
import { nestedEphemeralStorageMb } from '../private/ephemeral-storage';
import { PackagedResource, planSamPackaging } from '../private/sam/plan';
import { deploymentTemplate, UploadedCode } from '../private/sam/rewrite';
import { readTemplate } from '../private/sam/template';
import { describeLargest, LAMBDA_UNZIPPED_LIMIT_BYTES, ZipReport } from '../private/zip/engine';

const USAGE = `usage: possum S3_BUCKET[/PREFIX] [-t TEMPLATE] [-o OUTPUT] [-p PROFILE] [-c] [--installer pip|uv] [--endpoint-url URL] [--region REGION]

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
  --installer pip|uv     what installs the dependencies (default: pip; uv must be on PATH)
  --endpoint-url URL     an S3-compatible endpoint
  --region REGION        AWS region (default: the profile's or environment's)
  -h, --help             show this help

Progress goes to stderr. On any failure nothing is written to the output.`;


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
  readonly installer: Installer;
}

function parseArgs(argv: readonly string[]): Args | 'help' {
  const positional: string[] = [];
  const values: Record<string, string> = {};
  const repeated: Record<string, string[]> = { '--extra-index-url': [], '--find-links': [] };
  let clean = false;
  const aliases: Record<string, string> = {
    '-t': '--template', '--template-file': '--template', '-o': '--output', '--output-template-file': '--output', '-p': '--profile',
  };
  const valued = ['--template', '--output', '--profile', '--endpoint-url', '--region', '--index-url', '--extra-index-url', '--find-links', '--installer'];
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
  const installers: Record<string, Installer> = { pip: Installer.pip(), uv: Installer.uv() };
  const installer = installers[values['--installer'] ?? 'pip'];
  if (!installer) throw new UsageError(`--installer ${values['--installer']} is not pip or uv.`);
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
    installer,
  };
}

interface Built {
  readonly report: ZipReport;
  /** The zip's path, copied out of the cache (and verified) only when it is to be uploaded. */
  readonly zip: () => string;
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = parseOrExit('possum', USAGE, () => parseArgs(argv));
  if (typeof args === 'number') return args;
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
      installer: args.installer,
    };
    const built = await buildAll(planned, templateFile, options, scratch);
    // The SDK loads only when some object is not known to be in S3 already.
    let client: S3Client | undefined;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const s3 = () => client ??= new (require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3')).S3Client({
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

/**
 * Builds every planned resource: layers first (functions count them against the limit),
 * each group's distinct bundles concurrently in child processes.
 */
async function buildAll(planned: PackagedResource[], templateFile: string, options: PythonPipfileBundlingOptions,
  scratch: string): Promise<Map<string, Built>> {
  const built = new Map<string, Built>();
  const layerBytes = new Map<string, number>();
  const isLayer = (r: PackagedResource) => r.type === 'AWS::Serverless::LayerVersion';
  for (const group of [planned.filter(isLayer), planned.filter(r => !isLayer(r))]) {
    const jobs = new Map<string, { request: BundleRequest; plan: BundlePlan; resources: PackagedResource[] }>();
    for (const resource of group) {
      const request = bundleRequest({
        label: `${path.basename(templateFile)}: ${resource.logicalId}`,
        entry: resource.folder,
        runtime: resource.runtime,
        architectures: resource.architectures,
        options,
        includeCode: !isLayer(resource),
        dependencyPrefix: isLayer(resource) ? 'python' : '',
        loader: isLayer(resource) ? undefined : { kind: 'handler' },
        limitBytes: LAMBDA_UNZIPPED_LIMIT_BYTES - resource.layerRefs.reduce((s, ref) => s + (layerBytes.get(ref) ?? 0), 0),
      });
      const plan = planBundle(request);
      const key = plan.bundleKey;
      const job = jobs.get(key) ?? { request, plan, resources: [] };
      job.resources.push(resource);
      jobs.set(key, job);
    }
    const results = await inParallel([...jobs.entries()], CONCURRENCY, async ([key, job]) => {
      const zip = path.join(scratch, `${key}.zip`);
      // A bundle already in the cache needs no child process, and its zip is copied out
      // (and checked against its hash) only if it has to be uploaded.
      const cached = cachedReport(job.plan);
      if (cached) {
        process.stderr.write(`possum: ${job.request.label}: bundle unchanged, in the cache\n`);
        let copied: string | undefined;
        return { job, built: { report: cached, zip: () => copied ??= buildBundle(job.plan, zip).output } };
      }
      const report = await buildInChild({ request: job.request, output: zip });
      return { job, built: { report, zip: () => zip } };
    });
    for (const { job, built: result } of results) {
      for (const resource of job.resources) {
        built.set(resource.logicalId, result);
        if (isLayer(resource)) layerBytes.set(resource.logicalId, result.report.unzippedBytes);
      }
    }
  }
  return built;
}

/** Bundles built at once: enough to overlap downloads, few enough for a small machine. */
const CONCURRENCY = Math.max(2, Math.min(4, os.cpus().length * 2));

function buildInChild(job: BundleJob): Promise<ZipReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'private', 'bundle-worker.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', d => { out += d; });
    child.on('error', reject);
    child.on('close', code => {
      let result: BundleJobResult;
      try {
        result = JSON.parse(out.trim().split('\n').pop() ?? '');
      } catch {
        reject(new Error(`${job.request.label}: the bundler exited with code ${code} without a result.`));
        return;
      }
      if (result.ok && result.report) resolve(result.report);
      else reject(new Error(result.error ?? `${job.request.label}: the bundler failed.`));
    });
    child.stdin.end(JSON.stringify(job));
  });
}

/** Maps with at most `limit` calls in flight, keeping the input order in the result. */
async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/**
 * Objects this machine has put (or found) in S3, by endpoint, bucket and content-addressed
 * key, as the original Possum kept hashes in ~/.possum: a warm run needs no S3 round trip.
 * `--clean` ignores and renews them (say, after objects were deleted from the bucket).
 */
class UploadRecords {
  private readonly dir = path.join(cacheRoot(), CACHE_FORMAT, 'uploads');

  public has(where: string): boolean {
    return fs.existsSync(this.file(where));
  }

  public add(where: string) {
    fs.mkdirSync(this.dir, { recursive: true });
    fs.writeFileSync(this.file(where), where + '\n');
  }

  private file(where: string): string {
    return path.join(this.dir, crypto.createHash('sha256').update(where).digest('hex'));
  }
}

/** Uploads unless the object is already there (content-addressed); true when it uploaded. */
async function upload(s3: () => S3Client, bucket: string, key: string, zip: () => string, force: boolean, endpoint?: string): Promise<boolean> {
  const where = `s3://${bucket}/${key}${endpoint ? ` at ${endpoint}` : ''}`;
  const records = new UploadRecords();
  if (!force && records.has(where)) {
    process.stderr.write(`possum: ${where} was uploaded before, not uploaded again\n`);
    return false;
  }
  try {
    if (!force) {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { HeadObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
        await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        records.add(where);
        process.stderr.write(`possum: ${where} is already there, not uploaded again\n`);
        return false;
      } catch (e: any) {
        if (e?.$metadata?.httpStatusCode !== 404 && e?.name !== 'NotFound') throw e;
      }
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PutObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    const body = fs.readFileSync(zip());
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentType: 'application/zip' }));
    records.add(where);
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

if (require.main === module) runCli('possum', main);
