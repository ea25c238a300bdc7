import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sam from 'aws-cdk-lib/aws-sam';
import * as cfninc from 'aws-cdk-lib/cloudformation-include';
import { Construct } from 'constructs';
import { PythonPipfileBundlingOptions } from './bundling-options';
import { PythonPipfileBundling } from './private/asset-code';
import { ephemeralStorageMb, reportSize } from './private/bundle-wiring';
import { forCaller } from './private/caller-errors';
import { resolvedProperties } from './private/sam/globals';
import { PackagedResource, planSamPackaging } from './private/sam/plan';
import { readTemplate } from './private/sam/template';
import { LAMBDA_UNZIPPED_LIMIT_BYTES } from './private/zip/engine';
import { HANDLER_LOADER_HANDLER, REAL_HANDLER_ENV } from './private/zip/nested-loader';

/**
 * Properties of a SamTemplatePackager.
 */
export interface SamTemplatePackagerProps {
  /**
   * The SAM template (YAML or JSON) whose functions point at local folders.
   */
  readonly templateFile: string;

  /**
   * Values for the template's parameters, which CloudFormation include substitutes.
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
 * Includes an existing AWS SAM template in a CDK stack and packages every Python function
 * and layer whose code is a local folder, through the same Docker-free engine as
 * PythonPipfileFunction. SAM Globals are applied; S3 code locations, inline code, images
 * and other resources pass through untouched.
 */
export class SamTemplatePackager extends Construct {
  /** The included template: reach any resource with `getResource`. */
  public readonly template: cfninc.CfnInclude;

  /** Logical IDs of the resources whose code was packaged. */
  public readonly packagedResources: string[];

  constructor(scope: Construct, id: string, props: SamTemplatePackagerProps) {
    super(scope, id);
    try {
      const templateFile = path.resolve(props.templateFile);
      const parsed = readTemplate(templateFile);
      claimLogicalIds(this, templateFile, parsed, props.parameters ?? {});
      const planned = planSamPackaging(parsed, templateFile);
      try {
        this.template = new cfninc.CfnInclude(this, 'Template', { templateFile, parameters: props.parameters });
      } catch (e: any) {
        throw new Error(`${templateFile} could not be included in the stack at ${this.node.path}: ${String(e?.message ?? e).split('\n')[0]}`);
      }
      // Layers first, so functions can count the layers' sizes against Lambda's limit.
      const layerBytes = new Map<string, number>();
      const ordered = [...planned].sort((a, b) => Number(isLayer(b)) - Number(isLayer(a)));
      for (const resource of ordered) {
        const bytes = this.packageResource(resource, parsed, props.bundling ?? {}, layerBytes);
        if (isLayer(resource)) layerBytes.set(resource.logicalId, bytes);
      }
      this.packagedResources = planned.map(r => r.logicalId);
    } catch (e) {
      throw forCaller(e);
    }
  }

  /** The included `AWS::Serverless::Function` with this logical ID. */
  public getFunction(logicalId: string): sam.CfnFunction {
    const resource = this.getResource(logicalId);
    if (!(resource instanceof sam.CfnFunction)) {
      throw forCaller(new Error(`${this.node.path}: resource ${logicalId} is a ${resource.cfnResourceType}, not an AWS::Serverless::Function.`));
    }
    return resource;
  }

  /** The included resource with this logical ID. */
  public getResource(logicalId: string): cdk.CfnResource {
    try {
      return this.template.getResource(logicalId);
    } catch (e) {
      throw forCaller(e);
    }
  }

  /** Bundles one resource's folder and points the included resource at the asset; returns its unzipped bytes. */
  private packageResource(resource: PackagedResource, template: any, options: PythonPipfileBundlingOptions,
    layerBytes: Map<string, number>): number {
    const label = `${this.node.path}/${resource.logicalId}`;
    const layer = isLayer(resource);
    const knownLayers = resource.layerRefs.reduce((sum, ref) => sum + (layerBytes.get(ref) ?? 0), 0);
    const bundled = PythonPipfileBundling.code(this, label, {
      entry: resource.folder,
      runtime: new lambda.Runtime(resource.runtime, lambda.RuntimeFamily.PYTHON),
      architectures: resource.architectures.map(a => a === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64),
      options,
      includeCode: !layer,
      dependencyPrefix: layer ? 'python' : '',
      loader: layer ? undefined : { kind: 'handler' },
      limitBytes: LAMBDA_UNZIPPED_LIMIT_BYTES - knownLayers,
    });
    const scope = new Construct(this, resource.logicalId);
    const location = bundled.code.bind(scope).s3Location!;
    const cfn = this.template.getResource(resource.logicalId);
    PythonPipfileBundling.addWarnings(scope, bundled);
    // Set the typed properties (not overrides): CDK validates a local path in Code before overrides apply.
    if (cfn instanceof sam.CfnFunction) {
      cfn.codeUri = { bucket: location.bucketName, key: location.objectKey };
    } else if (cfn instanceof sam.CfnLayerVersion) {
      cfn.contentUri = { bucket: location.bucketName, key: location.objectKey };
    } else if (cfn instanceof lambda.CfnFunction) {
      cfn.code = { s3Bucket: location.bucketName, s3Key: location.objectKey };
    }
    // The asset's path and property, as CDK records them for its own functions, so that
    // `sam local invoke -t cdk.out/<Stack>.template.json` finds the code.
    bundled.code.bindToResource(cfn, { resourceProperty: codeProperty(resource) });
    const report = bundled.report;
    if (!report) return 0;
    if (report.nested) {
      // The template's own (and Globals') variables stay: SAM merges them with this one.
      cfn.addPropertyOverride('Handler', HANDLER_LOADER_HANDLER);
      cfn.addPropertyOverride(`Environment.Variables.${REAL_HANDLER_ENV}`, resource.handler);
      const own = resource.type === 'AWS::Serverless::Function'
        ? resolvedProperties(template, resource.logicalId).EphemeralStorage
        : template.Resources[resource.logicalId].Properties?.EphemeralStorage;
      const requested = typeof (own as any)?.Size === 'number' ? (own as any).Size : undefined;
      cfn.addPropertyOverride('EphemeralStorage', { Size: ephemeralStorageMb(scope, report, requested) });
    }
    reportSize(scope, report, PythonPipfileBundling.sizeReport(report), knownLayers, options.sizeReportFile ?? false);
    return report.unzippedBytes;
  }
}

/** Logical IDs each stack's included templates have taken: section/id -> template and construct path. */
const TAKEN = new WeakMap<cdk.Stack, Map<string, string>>();

/**
 * Included templates keep their logical IDs, so two templates in one stack must not share
 * one; CDK would only notice deep inside synth. Fail here, naming both templates.
 */
function claimLogicalIds(packager: Construct, templateFile: string, template: any, parameters: Record<string, string>) {
  const stack = cdk.Stack.of(packager);
  const taken = TAKEN.get(stack) ?? new Map<string, string>();
  TAKEN.set(stack, taken);
  const ids: string[] = [];
  for (const section of ['Resources', 'Outputs', 'Conditions', 'Parameters', 'Mappings']) {
    for (const id of Object.keys(template[section] ?? {})) {
      // Parameters given values are substituted away by the include.
      if (section === 'Parameters' && id in parameters) continue;
      ids.push(`${section}/${id}`);
    }
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

/** The property that holds a packaged resource's code. */
function codeProperty(resource: PackagedResource): string {
  switch (resource.type) {
    case 'AWS::Serverless::Function': return 'CodeUri';
    case 'AWS::Serverless::LayerVersion': return 'ContentUri';
    case 'AWS::Lambda::Function': return 'Code';
  }
}

function isLayer(resource: PackagedResource): boolean {
  return resource.type === 'AWS::Serverless::LayerVersion';
}
