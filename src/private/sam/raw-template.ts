import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { pointerSegment } from './template';

/**
 * A SAM template in a CDK stack as CloudFormation should receive it: every section and
 * resource passed through as raw data (CDK's typed SAM classes drop what they do not know,
 * rename dotted keys, turn `3.0` into "3", and check references that SAM itself resolves),
 * each resource a plain `CfnResource` under its own logical ID so the app can still reach it.
 */

/** Top-level sections other than Resources, emitted as they are. */
export class RawTemplateSections extends cdk.CfnElement {
  constructor(scope: Construct, id: string, private readonly sections: Record<string, unknown>) {
    super(scope, id);
  }

  /** @internal */
  public _toCloudFormation(): object {
    return this.sections;
  }
}

/** The attributes a resource may carry beside Type and Properties. */
const RESOURCE_ATTRIBUTES = ['Condition', 'DependsOn', 'Metadata', 'DeletionPolicy', 'UpdateReplacePolicy', 'UpdatePolicy', 'CreationPolicy', 'Version', 'Description'];

/** One resource of the template as a CfnResource with its own logical ID and raw properties. */
export function rawResource(scope: Construct, logicalId: string, resource: any, templateFile: string): cdk.CfnResource {
  if (typeof resource?.Type !== 'string') {
    throw new Error(`${templateFile}: resource ${logicalId} has no Type.`);
  }
  const cfn = new cdk.CfnResource(scope, logicalId, { type: resource.Type, properties: resource.Properties });
  // (CDK leaves out an empty Properties map, which CloudFormation reads as no Properties.)
  cfn.overrideLogicalId(logicalId);
  for (const attribute of RESOURCE_ATTRIBUTES) {
    if (resource[attribute] !== undefined) cfn.addOverride(attribute, resource[attribute]);
  }
  for (const key of Object.keys(resource)) {
    if (key !== 'Type' && key !== 'Properties' && !RESOURCE_ATTRIBUTES.includes(key)) cfn.addOverride(key, resource[key]);
  }
  return cfn;
}

const MARKER = 'POSSUM_RAW_NUMBER';

/**
 * Numbers whose JSON text a JavaScript number cannot keep (`3.0`, which SAM reads as a
 * float and would otherwise receive as 3; integers past 2^53) are replaced in `value` by
 * markers, and the stack's synthesized template gets their exact text back after CDK
 * writes it. Returns the value with markers.
 */
export function keepRawNumbers(scope: Construct, value: any, rawNumbers: ReadonlyMap<string, string>): any {
  const stack = cdk.Stack.of(scope);
  const { marked, replacements } = markRawNumbers(value, rawNumbers, `${MARKER}_${scope.node.addr}`);
  if (replacements.size === 0) return marked;
  // Runs after the stack wrote its template: a sibling of the stack, visited after it.
  const stage = cdk.Stage.of(stack)!;
  const patcher = new Construct(stage, `PossumRawNumbers${scope.node.addr}`);
  cdk.attachCustomSynthesis(patcher, {
    onSynthesize: session => {
      const file = path.join(session.outdir, stack.templateFile);
      if (!fs.existsSync(file)) return;
      fs.writeFileSync(file, restoreRawNumbers(fs.readFileSync(file, 'utf8'), replacements));
    },
  });
  return marked;
}

/** JSON text of a value, with the exact text of the numbers JavaScript would print differently. */
export function jsonWithRawNumbers(value: any, rawNumbers: ReadonlyMap<string, string>): string {
  const { marked, replacements } = markRawNumbers(value, rawNumbers, `${MARKER}_NESTED`);
  return restoreRawNumbers(JSON.stringify(marked, undefined, 1), replacements);
}

/** A copy of `value` with a unique marker string in place of each raw number; marker (as JSON) -> text. */
function markRawNumbers(value: any, rawNumbers: ReadonlyMap<string, string>, prefix: string): { marked: any; replacements: Map<string, string> } {
  const marked = JSON.parse(JSON.stringify(value));
  const replacements = new Map<string, string>();
  let n = 0;
  for (const [pointer, raw] of rawNumbers) {
    const segments = pointer.split('/').slice(1).map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    let node = marked;
    for (const s of segments.slice(0, -1)) node = node?.[s];
    const last = segments[segments.length - 1];
    if (node === null || typeof node !== 'object' || typeof node[last] !== 'number') continue; // edited away
    const marker = `${prefix}_${n++}`;
    node[last] = marker;
    replacements.set(JSON.stringify(marker), raw);
  }
  return { marked, replacements };
}

function restoreRawNumbers(text: string, replacements: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [quoted, raw] of replacements) out = out.split(quoted).join(raw);
  return out;
}

/** JSON pointer of a template path. */
export function pointerOf(p: readonly string[]): string {
  return p.map(s => `/${pointerSegment(s)}`).join('');
}
