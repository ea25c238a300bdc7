#!/usr/bin/env node
/**
 * possum: packages the Python functions and layers of an AWS SAM template without Docker,
 * uploads them to S3 and prints the deployment template.
 *
 *   possum S3_BUCKET[/PREFIX] [-t template.yaml] [-o output.yaml] [-p profile] [-c] [--endpoint-url URL] [--region R]
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { S3Client } from '@aws-sdk/client-s3';
import { PythonPipfileBundlingOptions } from '../bundling-options';
import { Installer } from '../installer';
import { parseOrExit, runCli, UsageError } from './cli-runner';
import { writeFileAtomic } from '../private/atomic-file';
import { proxyFailureText, s3Connection, s3EndpointFromEnvironment } from '../private/aws-config';
import { BundlePool } from '../private/bundle-pool';
import { bundleRequest } from '../private/bundle-request';
import { BundlePlan, BundleRequest, cachedReport, deliverBundle, planBundle } from '../private/bundler';
import { sha256File } from '../private/cache';
import { buildInParallel, ParallelJob } from '../private/parallel-build';
import { progress } from '../private/progress';
import { artifactLabel, bundleInputFor, codeInBuildOrder, Edit, isLayer, LocationKind, locationEdit, nestedWiring, S3Object } from '../private/sam/packaging';
import { CodeArtifact, ImageArtifact, knownParameters, planSamPackaging, planTemplateTree } from '../private/sam/plan';
import { readTemplate } from '../private/sam/template';
import { editTemplateText } from '../private/sam/text-edits';
import { ZipReport } from '../private/zip/engine';

const USAGE = `usage: possum S3_BUCKET[/PREFIX] [-t TEMPLATE] [-o OUTPUT] [-p PROFILE] [-c] [--installer pip|uv] [--endpoint-url URL] [--region REGION]
                     [--parameter-overrides KEY=VALUE ...] [--strict-lock] [--exclude PATTERN ...]

Packages every Python function and layer of an AWS SAM template whose code is a local
folder (no Docker: manylinux wheels for the function's runtime and architecture), uploads
the zips to S3 and prints the deployment template, with CodeUri/ContentUri pointing at them.
Zips are content-addressed: an unchanged function is neither rebuilt nor uploaded again.

  S3_BUCKET[/PREFIX]     where the zips go (s3://BUCKET/PREFIX/<sha256>.zip)
  -t, --template FILE    the SAM template (default: template.yaml, template.yml or template.json, as sam finds it)
  -o, --output FILE      write the deployment template here instead of stdout
  -p, --profile NAME     AWS profile for credentials and region
  -c, --clean            rebuild everything (ignore the build cache) and upload again
  --index-url URL        package index for the dependencies (credentials in it are never printed)
  --extra-index-url URL  another package index (repeatable)
  --find-links DIR|URL   wheels to install from (repeatable)
  --parameter-overrides K=V ...  values of template parameters that packaged properties
                         refer to (a Runtime or CodeUri given by !Ref); the template is unchanged
  --installer pip|uv     what installs the dependencies (default: uv, the version possum-cdk pins)
  --remote-cache s3://BUCKET[/PREFIX]
                         a build cache shared by CI runners (default: $POSSUM_REMOTE_CACHE); bundles found there
                         are not built, bundles built here are published there
  --strict-lock          a lock file out of date with its project (Pipfile.lock, uv.lock, poetry.lock) is an
                         error rather than a warning
  --exclude PATTERN      leave matching files of every function's and layer's folder out of its zip (repeatable;
                         .gitignore-like: *, **, a trailing / for folders, a leading / anchors at the folder, ! keeps)
  --endpoint-url URL     an S3-compatible endpoint (the remote cache's too, unless AWS_ENDPOINT_URL_S3 names one)
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
  readonly installer?: Installer;
  readonly parameters: Record<string, string>;
  readonly strictLock: boolean;
  readonly remoteCache?: string;
  readonly exclude: string[];
}

function parseArgs(argv: readonly string[]): Args | 'help' {
  const positional: string[] = [];
  const values: Record<string, string> = {};
  const repeated: Record<string, string[]> = { '--extra-index-url': [], '--find-links': [], '--parameter-overrides': [], '--exclude': [] };
  let clean = false;
  let strictLock = false;
  const aliases: Record<string, string> = {
    '-t': '--template', '--template-file': '--template', '-o': '--output', '--output-template-file': '--output', '-p': '--profile',
  };
  const valued = ['--template', '--output', '--profile', '--endpoint-url', '--region', '--index-url', '--extra-index-url', '--find-links', '--installer',
    '--parameter-overrides', '--remote-cache', '--exclude'];
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    if (raw === '-h' || raw === '--help') return 'help';
    if (raw === '-c' || raw === '--clean') {
      clean = true;
      continue;
    }
    if (raw === '--strict-lock') {
      strictLock = true;
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
  // Unset means the library's default (uv, with pip's rule for several indexes).
  const installer = values['--installer'] === undefined ? undefined : installers[values['--installer']];
  if (values['--installer'] !== undefined && !installer) throw new UsageError(`--installer ${values['--installer']} is not pip or uv.`);
  const parameters: Record<string, string> = {};
  for (const pair of repeated['--parameter-overrides'].flatMap(v => v.split(/\s+/)).filter(Boolean)) {
    const m = /^(?:ParameterKey=)?([A-Za-z0-9]+)(?:=|,ParameterValue=)(.*)$/.exec(pair);
    if (!m) throw new UsageError(`--parameter-overrides ${pair} is not KEY=VALUE.`);
    parameters[m[1]] = m[2];
  }
  return {
    bucket,
    prefix: prefix ? `${prefix}/` : '',
    template: values['--template'] ?? ['template.yaml', 'template.yml', 'template.json'].find(f => fs.existsSync(f)) ?? 'template.yaml',
    output: values['--output'],
    profile: values['--profile'],
    clean,
    endpointUrl: values['--endpoint-url'],
    region: values['--region'],
    indexUrl: values['--index-url'],
    extraIndexUrls: repeated['--extra-index-url'],
    findLinks: repeated['--find-links'],
    installer,
    parameters,
    strictLock,
    remoteCache: values['--remote-cache'],
    exclude: repeated['--exclude'],
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
  if (args.profile) {
    // As the AWS CLI's --profile: the profile's credentials, not keys in the environment.
    process.env.AWS_PROFILE = args.profile;
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) delete process.env[key];
  }
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'possum-'));
  let uploader: Uploader | undefined;
  try {
    const options = {
      cacheDir: args.clean ? path.join(scratch, 'clean-cache') : undefined,
      indexUrl: args.indexUrl,
      extraIndexUrls: args.extraIndexUrls,
      findLinks: args.findLinks,
      installer: args.installer,
      strictLock: args.strictLock,
      exclude: args.exclude.length > 0 ? args.exclude : undefined,
      // -c rebuilds everything: nothing is taken from the remote cache either.
      remoteCache: args.clean ? '' : args.remoteCache,
    };
    // Region and CA bundle as the AWS CLI finds them (the SDK alone would miss AWS_DEFAULT_REGION and
    // AWS_CA_BUNDLE); an unreadable bundle is said now, before anything is built.
    const connection = s3Connection(args.region);
    // The remote cache (in the bundle workers) finds its endpoint as the SDK does; without
    // one of its own, it is the one given here, like the uploads'.
    if (args.endpointUrl && !s3EndpointFromEnvironment()) process.env.AWS_ENDPOINT_URL_S3 = args.endpointUrl;
    const region = connection.region;
    // The SDK loads only when something is to be checked or sent. possum ships its own copy of
    // the SDK, so the SDK's notice that its future releases need a newer Node.js concerns
    // possum's releases, not the user: it is not printed on every run (unless asked for).
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    let client: S3Client | undefined;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const s3 = () => client ??= new (require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3')).S3Client({
      ...connection,
      endpoint: args.endpointUrl,
      forcePathStyle: args.endpointUrl !== undefined,
      maxAttempts: 3,
    });
    uploader = new Uploader(s3, args.bucket, args.prefix, args.clean, args.endpointUrl);
    const packager = new TemplatePackager(options, scratch, uploader, region, args.endpointUrl, args.parameters,
      args.output ? path.resolve(args.output) : undefined);
    // The AWS SDK takes a tenth of a second to load: it loads while the first bundles build.
    setImmediate(() => {
      try {
        s3();
      } catch {
        // Reported where the client is first used.
      }
    });
    const templateFile = path.resolve(args.template);
    const top = readTemplate(templateFile).value;
    const planned = planTemplateTree(top, templateFile, knownParameters(top, args.parameters), f => readTemplate(f).value);
    // The deployment template would not deploy: said for every such function, before anything is built.
    const images = planned.filter(p => p.artifact.kind === 'image');
    if (images.length > 0) {
      throw new Error(images.map(({ templateFile: file, artifact: a }) =>
        `${file}: resource ${a.logicalId} (AWS::Serverless::Function): ${(a as ImageArtifact).problem}`).join('\n'));
    }
    const text = await packager.package(templateFile);
    const given = Object.entries(args.parameters);
    if (given.length > 0) {
      // The output changes code locations only: deploy-time values stay the deployer's to give.
      progress(`note: the values given with --parameter-overrides (${given.map(([k, v]) => `${k}=${v}`).join(' ')}) chose what was ` +
        'packaged, but are not written into the template; give the same values when you deploy (sam deploy --parameter-overrides, or ' +
        'aws cloudformation deploy --parameter-overrides).');
    }
    await uploader.done();
    if (args.output) {
      writeFileAtomic(args.output, text);
    } else {
      process.stdout.write(text);
    }
    progress(`${uploader.count} object(s): ${uploader.uploaded} uploaded, ${uploader.count - uploader.uploaded} already in s3://${args.bucket}/${args.prefix}`);
    return 0;
  } catch (e: any) {
    // Uploads already under way finish first, so the error is the last word (and the scratch
    // folder they read from stays until they are done).
    await uploader?.settle();
    progress(`error: ${e?.message ?? e}`);
    if (args.output) progress(`nothing was written to ${args.output}`);
    return 1;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Packages one template (and, recursively, the templates it nests): builds its code, uploads
 * its artifacts, and returns its text edited in place to point at them.
 */
class TemplatePackager {
  private readonly inProgress = new Set<string>();

  constructor(private readonly options: PythonPipfileBundlingOptions, private readonly scratch: string, private readonly uploader: Uploader,
    private readonly region: string, private readonly endpoint?: string, private readonly parameters: Record<string, string> = {},
    /** The file possum writes (-o), kept out of every bundle. */
    private readonly output?: string) {}

  public async package(templateFile: string): Promise<string> {
    if (this.inProgress.has(templateFile)) throw new Error(`${templateFile} nests itself (through AWS::Serverless::Application or AWS::CloudFormation::Stack).`);
    this.inProgress.add(templateFile);
    try {
      const parsed = readTemplate(templateFile);
      // The top template's parameters may be given; a nested one's come from its parent at deploy time.
      const given = this.inProgress.size === 1 ? this.parameters : {};
      const artifacts = planSamPackaging(parsed.value, templateFile, knownParameters(parsed.value, given));
      const code = codeInBuildOrder(artifacts);
      progress(`${code.length} function(s) and layer(s) with local code in ${templateFile}`);
      for (const a of code) for (const w of a.warnings ?? []) progress(`warning: ${artifactLabel(path.basename(templateFile), a)}: ${w}`);
      // Each bundle is uploaded as soon as it is built, while the others still build.
      const upload = (b: Built) => this.uploader.put(`${b.report.sha256}.zip`, b.zip);
      const built = await buildAll(code, templateFile, this.options, this.scratch, [templateFile, ...this.output ? [this.output] : []], upload);
      const edits: Edit[] = [];
      const render = renderFor(this.region, this.endpoint);
      const name = path.basename(templateFile);
      for (const a of code) {
        const { zip, report } = built.get(a.logicalId)!;
        const key = await upload({ zip, report });
        edits.push(locationEdit(a, { bucket: this.uploader.bucket, key }, render));
        const wiring = nestedWiring(a, report, artifactLabel(name, a));
        if (wiring) {
          edits.push(...wiring.edits);
          if (wiring.warning) progress(`warning: ${artifactLabel(name, a)}: ${wiring.warning}`);
        }
      }
      for (const a of artifacts) {
        if (a.kind === 'file') {
          const key = await this.uploader.put(`${sha256File(a.file)}${path.extname(a.file)}`, () => a.file);
          edits.push(locationEdit(a, { bucket: this.uploader.bucket, key }, render));
        } else if (a.kind === 'template') {
          const child = await this.package(a.file);
          const file = path.join(this.scratch, `${crypto.randomBytes(8).toString('hex')}.template`);
          fs.writeFileSync(file, child);
          const key = await this.uploader.put(`${crypto.createHash('sha256').update(child).digest('hex')}.template`, () => file);
          edits.push(locationEdit(a, { bucket: this.uploader.bucket, key }, render));
        }
      }
      return editTemplateText(parsed, edits);
    } finally {
      this.inProgress.delete(templateFile);
    }
  }
}

/** Locations as `sam package` writes them: s3:// URIs for SAM code and definitions, S3Bucket/S3Key for AWS::Lambda, https for templates. */
function renderFor(region: string, endpoint?: string) {
  return (kind: LocationKind, o: S3Object): unknown => {
    switch (kind) {
      case 'serverless-code':
      case 'uri-file':
        return `s3://${o.bucket}/${o.key}`;
      case 'bucket-key-file':
        return { Bucket: o.bucket, Key: o.key };
      case 'lambda-code':
        return { S3Bucket: o.bucket, S3Key: o.key };
      case 'template':
        return endpoint ? `${endpoint.replace(/\/+$/, '')}/${o.bucket}/${o.key}` : `https://s3.${region}.amazonaws.com/${o.bucket}/${o.key}`;
    }
  };
}

/**
 * Builds every code artifact: layers first (functions count them against the limit), each
 * group's distinct bundles concurrently in child processes.
 */
async function buildAll(code: CodeArtifact[], templateFile: string, options: PythonPipfileBundlingOptions,
  scratch: string, ownFiles: readonly string[], onBuilt: (built: Built) => Promise<unknown>): Promise<Map<string, Built>> {
  const built = new Map<string, Built>();
  const layerBytes = new Map<string, number>();
  const name = path.basename(templateFile);
  const pool = new BundlePool();
  const warned = new Set<string>();
  try {
    for (const group of [code.filter(isLayer), code.filter(a => !isLayer(a))]) {
      const jobs = new Map<string, { request: BundleRequest; plan: BundlePlan; artifacts: CodeArtifact[] }>();
      for (const a of group) {
        const request = bundleRequest(bundleInputFor(a, artifactLabel(name, a), options, layerBytes, ownFiles));
        const plan = planBundle(request);
        // Functions that share a folder share its warnings, said once; what differs between
        // them (a handler an exclude pattern drops) is said for each.
        for (const w of plan.warnings) {
          const said = `${w.id}\0${w.message}`;
          if (warned.has(said)) continue;
          warned.add(said);
          progress(`warning: ${request.label}: ${w.message} [${w.id}]`);
        }
        const job = jobs.get(plan.bundleKey) ?? { request, plan, artifacts: [] };
        job.artifacts.push(a);
        jobs.set(plan.bundleKey, job);
      }
      // A bundle already in the cache needs no worker, and its zip is copied out (and
      // checked against its hash) only if it has to be uploaded.
      const byKey = new Map<string, Built>();
      const toBuild: ParallelJob[] = [];
      for (const [key, job] of jobs) {
        const zip = path.join(scratch, `${key}.zip`);
        const cached = cachedReport(job.plan);
        if (!cached) {
          toBuild.push({ plan: job.plan, output: zip });
          continue;
        }
        progress(`${job.request.label}: bundle unchanged, in the cache`);
        let copied: string | undefined;
        byKey.set(key, { report: cached, zip: () => copied ??= deliverBundle(job.plan, cached.sha256, zip).output });
        started(onBuilt(byKey.get(key)!));
      }
      // Each bundle is handed on (to be uploaded) as soon as it is built, while the others still build.
      await buildInParallel(pool, toBuild, (b, report) => {
        byKey.set(b.plan.bundleKey, { report, zip: () => b.output! });
        started(onBuilt(byKey.get(b.plan.bundleKey)!));
      });
      for (const [key, job] of jobs) {
        const result = byKey.get(key)!;
        for (const a of job.artifacts) {
          built.set(a.logicalId, result);
          if (isLayer(a)) layerBytes.set(a.logicalId, result.report.unzippedBytes);
        }
      }
    }
  } finally {
    pool.close();
  }
  return built;
}

/** Work started now and awaited later: its failure is reported where it is awaited, not as an unhandled rejection. */
function started(p: Promise<unknown>) {
  p.catch(() => undefined);
}

/**
 * Puts content-addressed objects into the bucket under the prefix: an object already there
 * (asked of the bucket with HEAD, never assumed from an earlier run, since objects can be
 * deleted) is not sent again; `--clean` sends everything again. Each key is handled once.
 */
class Uploader {
  public uploaded = 0;
  private readonly sent = new Map<string, Promise<void>>();

  constructor(private readonly s3: () => S3Client, public readonly bucket: string, private readonly prefix: string,
    private readonly force: boolean, private readonly endpoint?: string) {}

  public get count(): number {
    return this.sent.size;
  }

  /** Puts the file under `prefix + name` unless it is there; returns the key. */
  public async put(name: string, file: () => string): Promise<string> {
    const key = `${this.prefix}${name}`;
    if (!this.sent.has(key)) this.sent.set(key, this.send(key, file));
    await this.sent.get(key);
    return key;
  }

  public async done() {
    await Promise.all(this.sent.values());
  }

  /** Waits for every upload started, whether it succeeds or not. */
  public async settle() {
    await Promise.allSettled(this.sent.values());
  }

  private async send(key: string, file: () => string) {
    const where = `s3://${this.bucket}/${key}${this.endpoint ? ` at ${this.endpoint}` : ''}`;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { HeadObjectCommand, PutObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    try {
      if (!this.force) {
        try {
          await this.s3().send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
          progress(`${where} is already there, not uploaded again`);
          return;
        } catch (e: any) {
          if (e?.$metadata?.httpStatusCode !== 404 && e?.name !== 'NotFound') throw e;
        }
      }
      const body = fs.readFileSync(file());
      await this.s3().send(new PutObjectCommand({
        Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length, ContentType: contentType(key),
      }));
      this.uploaded++;
      progress(`uploaded ${where} (${body.length} bytes)`);
    } catch (e: any) {
      // A proxy's failure says what to check; anything else is the bucket's, the credentials' or the endpoint's.
      const proxy = proxyFailureText(e, this.endpoint ?? s3EndpointFromEnvironment());
      if (proxy) throw new Error(`uploading to ${where} failed: ${proxy}.`);
      throw new Error(`uploading to ${where} failed: ${e?.message || e?.name || String(e)}${e?.code ? ` (${e.code})` : ''}. ` +
        'Check the bucket, credentials and endpoint.');
    }
  }
}

function contentType(key: string): string {
  if (key.endsWith('.zip')) return 'application/zip';
  if (key.endsWith('.json')) return 'application/json';
  return 'application/octet-stream';
}

if (require.main === module) runCli('possum', main);
