/**
 * The S3 connection settings the AWS CLI (and so `sam package`) takes from the environment
 * and the shared config file, and the AWS SDK for JavaScript does not: AWS_DEFAULT_REGION,
 * and a CA bundle (AWS_CA_BUNDLE or the profile's `ca_bundle`, which a TLS-intercepting
 * corporate proxy needs). possum's uploads and the remote cache use these, so a machine set
 * up for the AWS CLI works as it is.
 */
import * as fs from 'fs';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { parseIni } from './ini';

/** A setting and where it came from, for messages. */
export interface AwsSetting {
  readonly value: string;
  readonly from: string;
}

/** What an S3 client is given: its region and, with a CA bundle, an agent that trusts it. */
export interface S3Connection {
  readonly region: string;
  readonly requestHandler?: { readonly httpsAgent: https.Agent };
}

/**
 * A setting of the active profile (AWS_PROFILE, else AWS_DEFAULT_PROFILE, else `default`)
 * in the config file (AWS_CONFIG_FILE, else ~/.aws/config), as the AWS CLI finds it.
 */
export function profileSetting(key: string, env: NodeJS.ProcessEnv = process.env): AwsSetting | undefined {
  const file = env.AWS_CONFIG_FILE ? expandHome(env.AWS_CONFIG_FILE) : path.join(os.homedir(), '.aws', 'config');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const profile = env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || 'default';
  const sections = parseIni(text);
  // `[default]` or `[profile default]`; any other profile is `[profile NAME]`.
  const section = profile === 'default' ? sections.default ?? sections['profile default'] : sections[`profile ${profile}`];
  const value = section?.[key]?.trim();
  return value ? { value, from: `${key} of profile ${profile} in ${file}` } : undefined;
}

/** The region: the one given, else AWS_REGION, else AWS_DEFAULT_REGION, else the profile's. */
export function awsRegion(given?: string, env: NodeJS.ProcessEnv = process.env): AwsSetting | undefined {
  if (given) return { value: given, from: '--region' };
  if (env.AWS_REGION) return { value: env.AWS_REGION, from: 'AWS_REGION' };
  if (env.AWS_DEFAULT_REGION) return { value: env.AWS_DEFAULT_REGION, from: 'AWS_DEFAULT_REGION' };
  return profileSetting('region', env);
}

/** The CA bundle: AWS_CA_BUNDLE, else the profile's `ca_bundle`. */
export function awsCaBundle(env: NodeJS.ProcessEnv = process.env): AwsSetting | undefined {
  if (env.AWS_CA_BUNDLE) return { value: expandHome(env.AWS_CA_BUNDLE), from: 'AWS_CA_BUNDLE' };
  const setting = profileSetting('ca_bundle', env);
  return setting && { ...setting, value: expandHome(setting.value) };
}

/**
 * An S3 client's region (us-east-1 when nothing names one) and, with a CA bundle, an agent
 * that trusts its certificates too. The AWS CLI trusts the bundle alone; this adds it to
 * what Node.js trusts anyway (its root certificates and NODE_EXTRA_CA_CERTS, which an
 * explicit `ca` would otherwise replace), so that a setup that worked before still does.
 * @throws Error naming the setting when its CA bundle cannot be read
 */
export function s3Connection(given?: string, env: NodeJS.ProcessEnv = process.env): S3Connection {
  const region = awsRegion(given, env)?.value ?? 'us-east-1';
  const bundle = awsCaBundle(env);
  if (!bundle) return { region };
  let ca: Buffer;
  try {
    ca = fs.readFileSync(bundle.value);
  } catch (e: any) {
    throw new Error(`${bundle.from} names the CA bundle ${bundle.value}, which cannot be read (${e?.code ?? e?.message ?? e}); ` +
      'fix the path, or remove the setting to use the default certificates.');
  }
  const trusted = [ca.toString('utf8'), ...tls.rootCertificates];
  if (env.NODE_EXTRA_CA_CERTS) {
    try {
      trusted.push(fs.readFileSync(env.NODE_EXTRA_CA_CERTS, 'utf8'));
    } catch {
      // Node.js itself warns about an unreadable one; it adds nothing here either.
    }
  }
  // The SDK's own agent keeps connections alive and allows 50 at once; so does this one.
  return { region, requestHandler: { httpsAgent: new https.Agent({ ca: trusted, keepAlive: true, maxSockets: 50 }) } };
}

function expandHome(file: string): string {
  return file === '~' || file.startsWith('~/') ? path.join(os.homedir(), file.slice(1)) : file;
}
