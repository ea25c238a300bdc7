import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseIni } from '../ini';
import { parseToml } from '../toml';

/**
 * Where the installer finds packages, as the user configured it for pip or for uv.
 *
 * Only the settings that say where the index is and how to reach it are taken from the
 * user's configuration (index URLs, find-links, no-index, and for pip trusted hosts,
 * certificates, proxy and timeouts); everything else in it (`--user`, `require-virtualenv`,
 * `no-binary`, `prefer-binary`, ...) would change what is installed, so it is ignored and
 * the installer runs isolated from it with these settings passed explicitly.
 *
 * Precedence, highest first, as the tools apply it: the construct's options; the
 * environment (`PIP_INDEX_URL`, `PIP_EXTRA_INDEX_URL`, `PIP_FIND_LINKS`, `PIP_NO_INDEX`;
 * `UV_DEFAULT_INDEX`, `UV_INDEX_URL`, `UV_INDEX`, `UV_EXTRA_INDEX_URL`, `UV_FIND_LINKS`,
 * `UV_NO_INDEX`); then the configuration files (pip: `PIP_CONFIG_FILE`, the interpreter's
 * `pip.conf`, `~/.config/pip/pip.conf`, `~/.pip/pip.conf`, `/etc/pip.conf`,
 * `/etc/xdg/pip/pip.conf`, with `[install]` over `[global]`; uv: the function folder's
 * `uv.toml` or `pyproject.toml` `[tool.uv]` or the nearest parent's, then
 * `~/.config/uv/uv.toml`, then `/etc/uv/uv.toml`).
 */
export interface IndexConfig {
  /** May hold credentials. */
  readonly indexUrl?: string;
  /** May hold credentials. */
  readonly extraIndexUrls: readonly string[];
  readonly findLinks: readonly string[];
  readonly noIndex: boolean;
  /** Other pip settings on reaching the index (trusted-host, cert, proxy, ...), as PIP_* variables. */
  readonly pipNetwork: Readonly<Record<string, string>>;
  /** Where each setting came from, for messages (never with credentials). */
  readonly sources: Readonly<Record<string, string>>;
}

/** pip settings taken from the user's configuration: where the index is, and how to reach it. */
const PIP_INDEX_KEYS = ['index-url', 'extra-index-url', 'find-links', 'no-index'];
const PIP_NETWORK_KEYS = ['trusted-host', 'cert', 'client-cert', 'proxy', 'timeout', 'default-timeout', 'retries', 'keyring-provider'];

/** What the reader needs from the machine: the environment and a file reader (tests pass fakes). */
export interface ConfigHost {
  readonly env: NodeJS.ProcessEnv;
  readonly home: string;
  readFile(file: string): string | undefined;
}

export function machineHost(env: NodeJS.ProcessEnv = process.env): ConfigHost {
  return {
    env,
    home: os.homedir(),
    readFile: (file: string) => {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch {
        return undefined;
      }
    },
  };
}

/** pip's configuration files, lowest precedence first (pip's own order on Linux and macOS). */
export function pipConfigFiles(host: ConfigHost, sysPrefix?: string): string[] {
  const env = host.env;
  const xdgDirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean);
  const files = [...xdgDirs.map(d => path.join(d, 'pip', 'pip.conf')), '/etc/pip.conf'];
  const envFile = env.PIP_CONFIG_FILE;
  // pip skips the user's files when PIP_CONFIG_FILE names a file that exists.
  const envFileExists = envFile !== undefined && envFile !== os.devNull && host.readFile(envFile) !== undefined;
  if (!envFileExists) {
    files.push(path.join(host.home, '.pip', 'pip.conf'));
    files.push(path.join(env.XDG_CONFIG_HOME || path.join(host.home, '.config'), 'pip', 'pip.conf'));
  }
  if (sysPrefix) files.push(path.join(sysPrefix, 'pip.conf'));
  if (envFile && envFile !== os.devNull) files.push(envFile);
  return files;
}

/**
 * The user's pip index settings: configuration files in pip's order (`[global]`, then
 * `[install]`), then `PIP_*` variables, each later one replacing an earlier value.
 */
export function pipIndexConfig(host: ConfigHost, sysPrefix?: string): IndexConfig {
  const values: Record<string, string> = {};
  const sources: Record<string, string> = {};
  for (const file of pipConfigFiles(host, sysPrefix)) {
    const text = host.readFile(file);
    if (text === undefined) continue;
    const sections = parseIni(text);
    for (const section of ['global', 'install']) {
      for (const [rawKey, value] of Object.entries(sections[section] ?? {})) {
        const key = rawKey.replace(/_/g, '-');
        if (!PIP_INDEX_KEYS.includes(key) && !PIP_NETWORK_KEYS.includes(key)) continue;
        values[key] = value;
        sources[key] = `${file} [${section}]`;
      }
    }
  }
  for (const key of [...PIP_INDEX_KEYS, ...PIP_NETWORK_KEYS]) {
    const name = `PIP_${key.toUpperCase().replace(/-/g, '_')}`;
    const value = host.env[name];
    if (value !== undefined && value !== '') {
      values[key] = value;
      sources[key] = name;
    }
  }
  const pipNetwork: Record<string, string> = {};
  for (const key of PIP_NETWORK_KEYS) {
    if (values[key] !== undefined) pipNetwork[`PIP_${key.toUpperCase().replace(/-/g, '_')}`] = values[key].trim().split(/\s+/).join(' ');
  }
  return {
    indexUrl: values['index-url']?.trim() || undefined,
    extraIndexUrls: splitList(values['extra-index-url']),
    findLinks: splitList(values['find-links']),
    noIndex: isTrue(values['no-index']),
    pipNetwork,
    sources,
  };
}

/** uv's configuration files, highest precedence first: the project's (nearest to `startDir`), the user's, the system's. */
export function uvConfigFiles(host: ConfigHost, startDir: string): string[] {
  const env = host.env;
  const files: string[] = [];
  for (let dir = path.resolve(startDir); ; dir = path.dirname(dir)) {
    const uvToml = path.join(dir, 'uv.toml');
    const pyproject = path.join(dir, 'pyproject.toml');
    if (host.readFile(uvToml) !== undefined) {
      files.push(uvToml);
      break;
    }
    const text = host.readFile(pyproject);
    if (text !== undefined && tomlOrUndefined(text)?.tool?.uv !== undefined) {
      files.push(pyproject);
      break;
    }
    if (path.dirname(dir) === dir) break;
  }
  files.push(path.join(env.XDG_CONFIG_HOME || path.join(host.home, '.config'), 'uv', 'uv.toml'));
  for (const d of (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean)) files.push(path.join(d, 'uv', 'uv.toml'));
  files.push('/etc/uv/uv.toml');
  return files;
}

/**
 * The user's uv index settings for a project folder: `UV_*` variables over the
 * configuration files (`index-url`, `extra-index-url`, `find-links`, `no-index`, and
 * `[[index]]` tables, at the top level, under `[pip]`, or under `[tool.uv]`).
 */
export function uvIndexConfig(host: ConfigHost, projectDir: string): IndexConfig {
  let indexUrl: string | undefined;
  let extra: string[] | undefined;
  let findLinks: string[] | undefined;
  let noIndex: boolean | undefined;
  const sources: Record<string, string> = {};
  // Highest precedence first: a value, once set, is kept.
  const env = host.env;
  const envDefault = env.UV_DEFAULT_INDEX || env.UV_INDEX_URL;
  if (envDefault) {
    indexUrl = envDefault.trim();
    sources['index-url'] = env.UV_DEFAULT_INDEX ? 'UV_DEFAULT_INDEX' : 'UV_INDEX_URL';
  }
  const envExtra = [...splitList(env.UV_INDEX).map(stripIndexName), ...splitList(env.UV_EXTRA_INDEX_URL)];
  if (envExtra.length) {
    extra = envExtra;
    sources['extra-index-url'] = env.UV_INDEX ? 'UV_INDEX' : 'UV_EXTRA_INDEX_URL';
  }
  if (env.UV_FIND_LINKS) {
    findLinks = splitList(env.UV_FIND_LINKS);
    sources['find-links'] = 'UV_FIND_LINKS';
  }
  if (env.UV_NO_INDEX !== undefined && env.UV_NO_INDEX !== '') {
    noIndex = isTrue(env.UV_NO_INDEX);
    sources['no-index'] = 'UV_NO_INDEX';
  }
  for (const file of uvConfigFiles(host, projectDir)) {
    const text = host.readFile(file);
    if (text === undefined) continue;
    const doc = tomlOrUndefined(text);
    if (!doc) throw new Error(`${file} is not valid TOML; uv would refuse it too. Fix it, or remove it.`);
    const tables = path.basename(file) === 'pyproject.toml' ? [doc.tool?.uv, doc.tool?.uv?.pip] : [doc, doc.pip];
    for (const t of tables.filter((x: any) => typeof x === 'object' && x !== null) as any[]) {
      const indexes: Array<{ url?: string; default?: boolean; explicit?: boolean }> = Array.isArray(t.index) ? t.index : [];
      const defaultIndex = indexes.find(i => i.default)?.url ?? t['index-url'];
      if (indexUrl === undefined && typeof defaultIndex === 'string') {
        indexUrl = defaultIndex;
        sources['index-url'] = file;
      }
      const extras = [
        ...indexes.filter(i => !i.default && !i.explicit && typeof i.url === 'string').map(i => i.url!),
        ...(Array.isArray(t['extra-index-url']) ? t['extra-index-url'] : []),
      ];
      if (extra === undefined && extras.length) {
        extra = extras;
        sources['extra-index-url'] = file;
      }
      if (findLinks === undefined && Array.isArray(t['find-links'])) {
        findLinks = t['find-links'].map(String);
        sources['find-links'] = file;
      }
      if (noIndex === undefined && typeof t['no-index'] === 'boolean') {
        noIndex = t['no-index'];
        sources['no-index'] = file;
      }
    }
  }
  return { indexUrl, extraIndexUrls: extra ?? [], findLinks: findLinks ?? [], noIndex: noIndex ?? false, pipNetwork: {}, sources };
}

function splitList(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter(Boolean);
}

function isTrue(value: string | undefined): boolean {
  return /^(1|true|yes|on)$/i.test((value ?? '').trim());
}

/** `UV_INDEX` entries may be `name=url`. */
function stripIndexName(entry: string): string {
  const m = /^([A-Za-z0-9_-]+)=(.+)$/.exec(entry);
  return m && !/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ? m[2] : entry;
}

function tomlOrUndefined(text: string): any {
  try {
    return parseToml(text);
  } catch {
    return undefined;
  }
}
