/**
 * The S3 connection settings the AWS CLI (and so `sam package`) takes from the environment
 * and the shared config file, and the AWS SDK for JavaScript does not: AWS_DEFAULT_REGION,
 * a CA bundle (AWS_CA_BUNDLE or the profile's `ca_bundle`, which a TLS-intercepting
 * corporate proxy needs) and the proxy variables. possum's uploads and the remote cache use these, so a machine set
 * up for the AWS CLI works as it is.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { parseIni } from './ini';
import { bypassesProxy, connectDirectly, describeProxy, proxyAgents, proxyFor, ProxySetting } from './proxy';

/** A setting and where it came from, for messages. */
export interface AwsSetting {
  readonly value: string;
  readonly from: string;
}

/**
 * What an S3 client is given: its region and, with a CA bundle or a proxy, agents that trust
 * the bundle and go through the proxy.
 */
export interface S3Connection {
  readonly region: string;
  /** Set only where the AWS CLI and the SDK would choose differently (see s3Connection). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  readonly requestHandler: {
    readonly connectionTimeout: number;
    readonly socketTimeout: number;
    readonly httpsAgent?: https.Agent;
    readonly httpAgent?: http.Agent;
  };
}

/**
 * How long a connection may take to open, and a connection stay silent, before a request
 * fails (and is retried): the AWS CLI's defaults (60 s each). The SDK for JavaScript has
 * none, so a server or proxy that accepts a connection and never answers would hold
 * possum-cdk for ever.
 */
export interface S3Timeouts {
  readonly connectMs: number;
  readonly silentMs: number;
}

export const AWS_CLI_TIMEOUTS: S3Timeouts = { connectMs: 60_000, silentMs: 60_000 };

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
 * An S3 client's region (us-east-1 when nothing names one), and agents for its connections
 * when the environment asks for more than the SDK's defaults:
 * - A CA bundle: its certificates are trusted too. The AWS CLI trusts the bundle alone; this
 *   adds it to what Node.js trusts anyway (its root certificates and NODE_EXTRA_CA_CERTS,
 *   which an explicit `ca` would otherwise replace), so that a setup that worked before still does.
 * - A proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY; see proxy.ts), which the AWS CLI uses and the
 *   SDK does not.
 * @throws Error naming the setting when its CA bundle cannot be read or its proxy is not a URL
 */
export function s3Connection(given?: string, env: NodeJS.ProcessEnv = process.env, timeouts: S3Timeouts = AWS_CLI_TIMEOUTS): S3Connection {
  const region = awsRegion(given, env)?.value ?? 'us-east-1';
  const trusted = trustedCertificates(env);
  const proxied = proxyAgents(trusted, env);
  const limits = { connectionTimeout: timeouts.connectMs, socketTimeout: timeouts.silentMs };
  // Keys in the environment come before a profile AWS_PROFILE names, for the AWS CLI; the
  // SDK skips them when AWS_PROFILE is set. (possum's -p, like the CLI's --profile, drops them.)
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  const credentials = (env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE) && accessKeyId && secretAccessKey
    ? { accessKeyId, secretAccessKey, ...sessionToken ? { sessionToken } : {} }
    : undefined;
  const base = { region, ...credentials ? { credentials } : {} };
  if (!trusted && !proxied.httpsAgent && !proxied.httpAgent) return { ...base, requestHandler: limits };
  // The SDK's own agent keeps connections alive and allows 50 at once; so do these.
  const httpsAgent = proxied.httpsAgent ?? new https.Agent({ ca: trusted, keepAlive: true, maxSockets: 50 });
  return { ...base, requestHandler: { ...limits, httpsAgent, ...proxied.httpAgent ? { httpAgent: proxied.httpAgent } : {} } };
}

/** An S3-compatible endpoint the environment names for S3 (the SDK reads the same variables). */
export function s3EndpointFromEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
}

/**
 * An S3 request's failure in words when a proxy, not S3, caused it; undefined otherwise.
 * - The agents in proxy.ts word what they see (a proxy that cannot be reached, or refuses
 *   a tunnel): those words are kept as they are.
 * - An http endpoint's request goes to the proxy, which may answer it itself (407, 403,
 *   502...). The SDK then reads the proxy's page as a malformed S3 error ("UnknownError").
 *   An answer without S3's request id (x-amz-request-id; S3-compatible servers send one
 *   too) to a request that went through the proxy is the proxy's.
 */
export function proxyFailureText(e: any, endpoint: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const message = String(e?.message ?? '');
  if (message.startsWith('the proxy ')) return message;
  const status = e?.$metadata?.httpStatusCode;
  if (!status || e?.$metadata?.requestId || !endpoint?.startsWith('http://')) return undefined;
  let proxy: ProxySetting | undefined;
  let host: string;
  try {
    const url = new URL(endpoint);
    host = url.hostname;
    if (bypassesProxy(host, Number(url.port) || 80, env)) return undefined;
    proxy = proxyFor('http', env);
  } catch {
    return undefined;
  }
  if (!proxy) return undefined;
  if (status === 407) {
    return `${describeProxy(proxy)} refused the request: 407 Proxy Authentication Required. ` +
      `Check the user and password in ${proxy.from} (http://user:password@host:port)`;
  }
  return `${describeProxy(proxy)} answered ${status} itself (it refused the request or could not pass it on). ` +
    `Check ${proxy.from} and what the proxy allows, ${connectDirectly(host)}`;
}

/** The CA bundle's certificates with Node.js's usual ones, or undefined when there is no bundle. */
function trustedCertificates(env: NodeJS.ProcessEnv): string[] | undefined {
  const bundle = awsCaBundle(env);
  if (!bundle) return undefined;
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
  return trusted;
}

function expandHome(file: string): string {
  return file === '~' || file.startsWith('~/') ? path.join(os.homedir(), file.slice(1)) : file;
}
