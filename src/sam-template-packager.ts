import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { PythonPipfileBundlingOptions } from './bundling-options';
import { PythonPipfileBundling } from './private/asset-code';
import { reportSize } from './private/bundle-wiring';
import { forCaller } from './private/caller-errors';
import { globalsReaching } from './private/sam/globals';
import { applyEdits, artifactLabel, bundleInputFor, codeInBuildOrder, Edit, isLayer, LocationKind, locationEdit, nestedWiring, S3Object } from './private/sam/packaging';
import { Artifact, CodeArtifact, knownParameters, planSamPackaging, planTemplateTree } from './private/sam/plan';
import { jsonWithRawNumbers, keepRawNumbers, pointerOf, rawResource, RawTemplateSections } from './private/sam/raw-template';
import { ParsedTemplate, readTemplate } from './private/sam/template';

/**
 * Properties of a SamTemplatePackager.
 */
export interface SamTemplatePackagerProps {
  /**
   * The SAM template (YAML or JSON) whose functions point at local folders.
   */
  readonly templateFile: string;

  /**
   * Values for the template's parameters. They become the parameters' defaults in the
   * synthesized template, and packaging uses them where a packaged property (a Runtime, a
   * CodeUri, a Handler) refers to a parameter.
   * @default - the template's defaults
   */
  readonly parameters?: { [name: string]: string };

  /**
   * How the Python functions' and layers' dependencies are installed and bundled.
   * @default - pip, wheels only, the user build cache
   */
  readonly bundling?: PythonPipfileBundlingOptions;
}

/**
 * Brings an existing AWS SAM template into a CDK stack and packages every Python function
 * and layer whose code is a local folder (and the local files a SAM template may name:
 * API and state machine definitions, AWS::Include snippets), through the same Docker-free
 * engine as PythonPipfileFunction and the possum CLI.
 *
 * Packaging changes where code lives (and, for a nested bundle, the handler, one
 * environment variable and /tmp), nothing else: every section and resource reaches
 * CloudFormation as SAM would have read it from the file, so the SAM transform sees the
 * same template, with the same references to resources SAM generates and the same
 * generated IDs.
 */
export class SamTemplatePackager extends Construct {
  /** Logical IDs of the resources whose code was packaged. */
  public readonly packagedResources: string[];

  private readonly resources = new Map<string, cdk.CfnResource>();

  constructor(scope: Construct, id: string, props: SamTemplatePackagerProps) {
    super(scope, id);
    try {
      const templateFile = path.resolve(props.templateFile);
      const parsed = readTemplate(templateFile);
      const template = parsed.value;
      const given = props.parameters ?? {};
      for (const name of Object.keys(given)) {
        if (!(name in (template.Parameters ?? {}))) {
          throw new Error(`${templateFile} has no parameter ${name} (given in the parameters of ${this.node.path}); ` +
            `its parameters are ${Object.keys(template.Parameters ?? {}).join(', ') || 'none'}.`);
        }
      }
      claimLogicalIds(this, templateFile, template);
      guardGlobals(this, templateFile, template);
      planTemplateTree(template, templateFile, knownParameters(template, given), f => readTemplate(f).value);
      const root = this.packageTemplate(parsed, given, this, props.bundling ?? {}, [templateFile]);

      const { Resources: resources, ...sections } = keepRawNumbers(this, root.value, root.rawNumbers);
      if (Object.keys(sections).length > 0) new RawTemplateSections(this, 'Sections', sections);
      const resourceScope = new Construct(this, 'Resources');
      for (const [logicalId, resource] of Object.entries<any>(resources)) {
        this.resources.set(logicalId, rawResource(resourceScope, logicalId, resource, templateFile));
      }
      // The asset's path and property, as CDK records them for its own functions, so that
      // `sam local invoke -t cdk.out/<Stack>.template.json` finds the code.
      for (const m of root.metadata) m.bind(this.resources.get(m.logicalId)!);
      this.packagedResources = root.packaged;
    } catch (e) {
      throw forCaller(e);
    }
  }

  /** The included `AWS::Serverless::Function` (or `AWS::Lambda::Function`) with this logical ID. */
  public getFunction(logicalId: string): cdk.CfnResource {
    const resource = this.getResource(logicalId);
    if (resource.cfnResourceType !== 'AWS::Serverless::Function' && resource.cfnResourceType !== 'AWS::Lambda::Function') {
      throw forCaller(new Error(`${this.node.path}: resource ${logicalId} is a ${resource.cfnResourceType}, not an AWS::Serverless::Function.`));
    }
    return resource;
  }

  /** The included resource with this logical ID, as a CfnResource (`ref`, `getAtt`, `addPropertyOverride`). */
  public getResource(logicalId: string): cdk.CfnResource {
    const resource = this.resources.get(logicalId);
    if (!resource) {
      throw forCaller(new Error(`${this.node.path}: the template has no resource ${logicalId}; its resources are ${[...this.resources.keys()].join(', ')}.`));
    }
    return resource;
  }

  /**
   * Packages one template (the included one, or one it nests): builds its code into assets
   * under `scope`, and returns its value edited to point at them, with the numbers whose
   * JSON text must be kept.
   */
  private packageTemplate(parsed: ParsedTemplate, given: Record<string, string>, scope: Construct, options: PythonPipfileBundlingOptions,
    chain: string[]): PackagedTemplate {
    const templateFile = parsed.file;
    const template = parsed.value;
    // Every error about what cannot be packaged comes before anything is installed.
    const artifacts = planSamPackaging(template, templateFile, knownParameters(template, given));
    const edits: Edit[] = Object.entries(given).map(([name, value]) => ({ path: ['Parameters', name, 'Default'], value }));
    const metadata: PackagedTemplate['metadata'] = [];
    const name = path.basename(templateFile);
    const stack = cdk.Stack.of(this);
    for (const a of artifacts) {
      if (a.kind !== 'image') continue;
      // A warning, not an error: the app can still give it one (from a DockerImageAsset, say).
      cdk.Annotations.of(scope).addWarningV2('possum-cdk:imageNotPackaged', `${name}: resource ${a.logicalId}: ${a.problem} ` +
        `In this app: getFunction('${a.logicalId}').addPropertyOverride('ImageUri', ...).`);
    }

    // Code: layers first, so functions count their sizes against Lambda's limit.
    const layerBytes = new Map<string, number>();
    const order = codeInBuildOrder(artifacts);
    const inputOf = (a: CodeArtifact) => bundleInputFor(a, `${scope.node.path}/${a.logicalId}`, options, layerBytes, [templateFile]);
    // All of a group's bundles are built at once, as the possum CLI builds them; then each is staged in turn.
    for (const group of [order.filter(isLayer), order.filter(a => !isLayer(a))]) {
      const inputs = group.map(inputOf);
      const planned = PythonPipfileBundling.buildAtOnce(this, inputs);
      group.forEach((a, i) => {
        const bundled = PythonPipfileBundling.code(this, inputs[i], planned[i]);
        const assetScope = new Construct(scope, a.logicalId);
        const location = bundled.code.bind(assetScope).s3Location!;
        PythonPipfileBundling.addWarnings(assetScope, bundled);
        for (const w of a.warnings ?? []) cdk.Annotations.of(assetScope).addWarningV2('possum-cdk:samTemplate', `${artifactLabel(name, a)}: ${w}`);
        edits.push(locationEdit(a, { bucket: location.bucketName, key: location.objectKey }, render(templateFile, stack)));
        const property = a.path[a.path.length - 1];
        metadata.push({ logicalId: a.logicalId, bind: r => bundled.code.bindToResource(r, { resourceProperty: property }) });
        const report = bundled.report;
        if (!report) return;
        if (isLayer(a)) layerBytes.set(a.logicalId, report.unzippedBytes);
        const wiring = nestedWiring(a, report, `${artifactLabel(name, a)} (${scope.node.path}/${a.logicalId})`);
        if (wiring) {
          edits.push(...wiring.edits);
          if (wiring.warning) cdk.Annotations.of(assetScope).addWarningV2('possum-cdk:ephemeralStorageTight', wiring.warning);
        }
        const knownLayers = a.layerRefs.reduce((sum, ref) => sum + (layerBytes.get(ref) ?? 0), 0);
        reportSize(assetScope, report, PythonPipfileBundling.sizeReport(report), knownLayers, options.sizeReportFile ?? false);
      });
    }
    artifacts.forEach((a, i) => {
      if (a.kind === 'file') {
        // Files SAM uploads as they are: definitions and included snippets.
        const asset = new s3assets.Asset(scope, `${a.logicalId ?? 'Include'}File${i}`, { path: a.file });
        edits.push(locationEdit(a, { bucket: asset.s3BucketName, key: asset.s3ObjectKey }, render(templateFile, stack)));
        // A prebuilt .zip is a function's or layer's code: sam local finds it through the same metadata.
        if (a.logicalId && (a.style === 'serverless-code' || a.style === 'lambda-code')) {
          const property = a.path[a.path.length - 1];
          metadata.push({ logicalId: a.logicalId, bind: r => asset.addResourceMetadata(r, property) });
        }
      } else if (a.kind === 'template') {
        // A nested template: packaged the same way, its code staged as assets of this stack.
        if (chain.includes(a.file)) throw new Error(`${a.file} nests itself (through ${a.logicalId} in ${templateFile}).`);
        const childScope = new Construct(scope, `${a.logicalId}Template`);
        const child = this.packageTemplate(readTemplate(a.file), {}, childScope, options, [...chain, a.file]);
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'possum-nested-')), path.basename(a.file).replace(/\.(ya?ml|template)$/, '') + '.json');
        try {
          fs.writeFileSync(file, jsonWithRawNumbers(stack.resolve(child.value), child.rawNumbers));
          const asset = new s3assets.Asset(childScope, 'Asset', { path: file });
          edits.push(locationEdit(a, { bucket: asset.s3BucketName, key: asset.s3ObjectKey }, render(templateFile, stack)));
        } finally {
          fs.rmSync(path.dirname(file), { recursive: true, force: true });
        }
      }
    });

    const value = applyEdits(template, edits, templateFile);
    const editedPointers = edits.map(e => pointerOf(e.path));
    const rawNumbers = new Map([...parsed.rawNumbers].filter(([p]) => !editedPointers.some(e => p === e || p.startsWith(`${e}/`))));
    return { value, rawNumbers, metadata, packaged: codeInBuildOrder(artifacts).map(a => a.logicalId).sort() };
  }
}

/** A template packaged by the construct. */
interface PackagedTemplate {
  readonly value: any;
  readonly rawNumbers: ReadonlyMap<string, string>;
  /** Adds CDK's asset metadata to a packaged resource (for sam local). */
  readonly metadata: Array<{ logicalId: string; bind: (resource: cdk.CfnResource) => void }>;
  readonly packaged: string[];
}

/**
 * Locations as the construct writes them: CDK's asset bucket is a token until deploy for
 * stacks without an account and region, so SAM code and definitions take {Bucket, Key};
 * an AWS::Include snippet needs a literal s3:// URI, which needs the stack's environment.
 */
function render(templateFile: string, stack: cdk.Stack) {
  return (kind: LocationKind, o: S3Object, a: Artifact): unknown => {
    switch (kind) {
      case 'serverless-code':
      case 'bucket-key-file':
        return { Bucket: o.bucket, Key: o.key };
      case 'lambda-code':
        return { S3Bucket: o.bucket, S3Key: o.key };
      case 'uri-file':
        if (a.kind === 'file' && a.logicalId) return { Bucket: o.bucket, Key: o.key };
        if (cdk.Token.isUnresolved(o.bucket) || cdk.Token.isUnresolved(o.key)) {
          throw new Error(`${templateFile}: AWS::Include at ${a.path.slice(0, -2).join('.')} names a local file, which CloudFormation can only ` +
            'read from a literal s3:// URI. Give the stack an account and region (env), so the asset bucket has a name at synth time, ' +
            'or package the template with the possum CLI.');
        }
        return `s3://${o.bucket}/${o.key}`;
      case 'template': {
        const url = cdk.Fn.join('', ['https://s3.', stack.region, '.', stack.urlSuffix, '/', o.bucket as string, '/', o.key as string]);
        if (a.kind === 'template' && a.path[a.path.length - 1] === 'TemplateURL') return url;
        // SAM reads an application's Location as a literal URL: it must be known at synth time.
        if (cdk.Token.isUnresolved(stack.region) || cdk.Token.isUnresolved(o.bucket) || cdk.Token.isUnresolved(o.key)) {
          throw new Error(`${templateFile}: ${a.path.slice(1, 2)} nests a local template, and SAM needs the nested application's Location as a ` +
            'literal https URL. Give the stack an account and region (env), so the asset bucket has a name at synth time, or package the ' +
            'template with the possum CLI.');
        }
        // stack.urlSuffix is a token even when the region is known; SAM does not resolve it in a Location.
        const suffix = RegionInfo.get(stack.region).domainSuffix ?? (stack.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com');
        return `https://s3.${stack.region}.${suffix}/${o.bucket}/${o.key}`;
      }
    }
  };
}

/** Logical IDs each stack's included templates have taken: section/id -> template and construct path. */
const TAKEN = new WeakMap<cdk.Stack, Map<string, string>>();

/** Sections whose entries must be unique in a stack. */
const KEYED_SECTIONS = ['Resources', 'Outputs', 'Conditions', 'Parameters', 'Mappings', 'Rules', 'Hooks'];

/**
 * Included templates keep their logical IDs, so two templates in one stack must not share
 * one; CDK would only notice deep inside synth. Fail here, naming both templates.
 */
function claimLogicalIds(packager: Construct, templateFile: string, template: any) {
  const stack = cdk.Stack.of(packager);
  const taken = TAKEN.get(stack) ?? new Map<string, string>();
  TAKEN.set(stack, taken);
  const ids: string[] = [];
  for (const section of KEYED_SECTIONS) {
    for (const id of Object.keys(template[section] ?? {})) ids.push(`${section}/${id}`);
  }
  for (const id of ids) {
    const owner = taken.get(id);
    if (owner) {
      const [section, name] = id.split('/');
      throw new Error(
        `${templateFile} (at ${packager.node.path}) and ${owner} both define ${section} entry ${name}; one stack cannot hold ` +
        'two with the same logical ID. Put the templates in different stacks, or rename one of them.');
    }
  }
  for (const id of ids) taken.set(id, `${templateFile} (at ${packager.node.path})`);
}

/** Per stack, the included templates that have a Globals section. */
const GLOBALS = new WeakMap<cdk.Stack, Array<{ packager: Construct; templateFile: string; sections: string[] }>>();

/**
 * SAM applies a template's Globals to the whole template it transforms, and a stack is one
 * template: the Globals of an included template would also change every SAM resource that
 * something else put in the stack (another included template, an aws-sam L1), silently.
 * Checked when the app synthesizes, when the stack holds everything it will hold.
 */
function guardGlobals(packager: Construct, templateFile: string, template: any) {
  const globals = template.Globals;
  if (typeof globals !== 'object' || globals === null || Object.keys(globals).length === 0) return;
  const stack = cdk.Stack.of(packager);
  const owners = GLOBALS.get(stack) ?? [];
  GLOBALS.set(stack, owners);
  const mine = { packager, templateFile, sections: Object.keys(globals) };
  owners.push(mine);
  const fix = 'Give one of them a stack of its own: a cdk.NestedStack in this stack will do (new SamTemplatePackager(new cdk.NestedStack(...), ...)).';
  packager.node.addValidation({
    validate: () => {
      const problems: string[] = [];
      // Said once, by the later of the two.
      for (const other of owners.slice(0, owners.indexOf(mine))) {
        const shared = other.sections.filter(s => mine.sections.includes(s));
        if (shared.length > 0) {
          problems.push(`${templateFile} and ${other.templateFile} (at ${other.packager.node.path}) both have Globals.${shared.join(', Globals.')}, ` +
            `and one stack has one Globals section, which SAM applies to the SAM resources of both. ${fix}`);
        }
      }
      const reached: string[] = [];
      for (const c of stack.node.findAll()) {
        if (!(c instanceof cdk.CfnResource) || !c.cfnResourceType.startsWith('AWS::Serverless::') || cdk.Stack.of(c) !== stack) continue;
        if (c.node.path.startsWith(`${packager.node.path}/`)) continue;
        // What CloudFormation will receive for it, overrides included.
        const rendered: any = Object.values(stack.resolve((c as any)._toCloudFormation()).Resources ?? {})[0];
        const sections = globalsReaching(globals, c.cfnResourceType, rendered?.Properties);
        if (sections.length > 0) reached.push(`${c.node.path} (${c.cfnResourceType}, by Globals.${sections.join(', Globals.')})`);
      }
      if (reached.length > 0) {
        problems.push(`${templateFile} has Globals, and SAM applies a stack's Globals to every SAM resource in the stack, so they would also ` +
          `change ${reached.join('; ')}, which ${reached.length === 1 ? 'is' : 'are'} not from this template. ${fix}`);
      }
      return problems;
    },
  });
}
