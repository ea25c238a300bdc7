/**
 * SAM `Globals` resolution, as SAM's translator applies it to each resource:
 * - a primitive (or an intrinsic function, which resolves to one) in the resource wins;
 * - maps merge key by key, recursively, the resource's values winning;
 * - lists concatenate: the Globals entries, then the resource's;
 * - values of different kinds: the resource's wins.
 */

type Json = unknown;

const INTRINSICS = new Set([
  'Ref', 'Condition', 'Fn::Base64', 'Fn::Cidr', 'Fn::FindInMap', 'Fn::GetAtt', 'Fn::GetAZs', 'Fn::ImportValue',
  'Fn::Join', 'Fn::Select', 'Fn::Split', 'Fn::Sub', 'Fn::Transform', 'Fn::And', 'Fn::Equals', 'Fn::If', 'Fn::Not', 'Fn::Or',
  'Fn::ToJsonString', 'Fn::Length',
]);

/** A one-key map whose key is an intrinsic function (`{"Ref": ...}`, `{"Fn::Sub": ...}`). */
export function isIntrinsic(value: Json): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && INTRINSICS.has(keys[0]);
}

function kindOf(value: Json): 'map' | 'list' | 'primitive' {
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object' && value !== null && !isIntrinsic(value)) return 'map';
  return 'primitive';
}

/** Merges a Globals value with a resource's own value by SAM's rules. */
export function mergeGlobal(globalValue: Json, localValue: Json): Json {
  if (localValue === undefined) return globalValue;
  if (globalValue === undefined) return localValue;
  const g = kindOf(globalValue);
  const l = kindOf(localValue);
  if (g !== l || g === 'primitive') return localValue;
  if (g === 'list') return [...(globalValue as Json[]), ...(localValue as Json[])];
  const merged: Record<string, Json> = { ...(globalValue as Record<string, Json>) };
  for (const [key, value] of Object.entries(localValue as Record<string, Json>)) {
    merged[key] = key in merged ? mergeGlobal(merged[key], value) : value;
  }
  return merged;
}

/**
 * The Globals section that applies to a resource type, as SAM's translator names them: the
 * type without its `AWS::Serverless::` prefix (Function, Api, HttpApi, SimpleTable, ...).
 */
function globalsSection(type: unknown): string | undefined {
  const prefix = 'AWS::Serverless::';
  return typeof type === 'string' && type.startsWith(prefix) ? type.slice(prefix.length) : undefined;
}

/** A resource's properties with the template's Globals applied. */
export function resolvedProperties(template: any, logicalId: string): Record<string, Json> {
  const resource = template?.Resources?.[logicalId];
  const own: Record<string, Json> = resource?.Properties ?? {};
  const section = globalsSection(resource?.Type);
  const globals: Record<string, Json> | undefined = section ? template?.Globals?.[section] : undefined;
  if (!globals) return own;
  return mergeGlobal(globals, own) as Record<string, Json>;
}

/**
 * The sections of a template's `Globals` that SAM's transform would apply to a resource
 * (given as CloudFormation renders it): a section named X reaches every
 * `AWS::Serverless::X` of the template, and `Api` and `HttpApi` also reach the API SAM
 * creates for a function's event that names none (ServerlessRestApi, ServerlessHttpApi).
 * One stack is one template to SAM, so what another template put in the stack is reached too.
 */
export function globalsReaching(globals: Record<string, Json>, type: string, properties: any): string[] {
  const reached = new Set<string>();
  const section = globalsSection(type);
  if (section !== undefined && section in globals) reached.add(section);
  if (type === 'AWS::Serverless::Function') {
    const events = properties?.Events;
    for (const event of typeof events === 'object' && events !== null ? Object.values<any>(events) : []) {
      if (event?.Type === 'Api' && event.Properties?.RestApiId === undefined && 'Api' in globals) reached.add('Api');
      if (event?.Type === 'HttpApi' && event.Properties?.ApiId === undefined && 'HttpApi' in globals) reached.add('HttpApi');
    }
  }
  return [...reached];
}
