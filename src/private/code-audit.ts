import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { DefaultExcludes } from '../bundling-options';
import { sha256File } from './cache';
import { ManifestWarning } from './python/dependency-spec';
import { collectFiles } from './zip/collect';
import { ALWAYS_EXCLUDED, PathRules } from './zip/path-rules';

/**
 * What of a function's own folder goes into its bundle, and what in it looks like a secret.
 *
 * The folder is walked once per synth of a bundled stack: every kept file is hashed for the
 * bundle's key, and the small ones are also read for the shapes of common credentials. The
 * audit only warns (a name can mislead, and a pattern can match a placeholder); the default
 * excludes are what keep secrets out.
 */

/** The manifests a function's folder may hold: build inputs, never shipped unless kept with `!`. */
const MANIFEST_NAMES = ['requirements.txt', 'Pipfile', 'Pipfile.lock', 'pyproject.toml', 'uv.lock', 'poetry.lock'];

/**
 * The exclude patterns of a function's own files, in the order they apply: the defaults,
 * then the manifests (the ones at the folder's root and every file the manifest read, such
 * as `-r` includes), then the user's, whose `!` patterns can keep any of the others.
 */
export function codeExcludes(entry: string, defaults: readonly string[], manifestInputs: readonly string[] | undefined,
  user: readonly string[]): string[] {
  const manifests = new Set<string>();
  if (manifestInputs) {
    for (const name of MANIFEST_NAMES) manifests.add(`/${name}`);
    for (const file of manifestInputs) {
      const rel = path.relative(entry, file);
      if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) manifests.add(`/${rel.split(path.sep).join('/')}`);
    }
  }
  return [...defaults, ...manifests, ...user];
}

/** The bundle-key fingerprint of a function's own files, and the warnings about them. */
export interface CodeInspection {
  readonly fingerprint: string;
  /** The files' total size, in bytes. */
  readonly bytes: number;
  readonly warnings: ManifestWarning[];
}

/** Files read for credential shapes (larger ones are data, models, archives). */
const SNIFF_MAX_BYTES = 1_048_576;
/** How many files a warning names before it says "and N more". */
const NAMED = 10;

/**
 * @param excludes every pattern, in order (see codeExcludes)
 * @param user the user's own patterns (a subset of `excludes`)
 */
export function inspectCode(entry: string, excludes: readonly string[], user: readonly string[]): CodeInspection {
  const hash = crypto.createHash('sha256');
  const suspicious: string[] = [];
  const certificates: string[] = [];
  const files = collectFiles([{ dir: entry, excludes: [...excludes] }], ALWAYS_EXCLUDED, (rel, abs, isDirectory, pattern) => {
    // A certificate bundle (an RDS CA bundle, say) is public and often read at run time;
    // the default `*.pem` leaves it out along with private keys, so say so.
    if (!isDirectory && pattern === '*.pem' && !user.includes('*.pem')) {
      const text = smallText(abs);
      if (text && /-----BEGIN CERTIFICATE-----/.test(text) && !PRIVATE_KEY.test(text)) certificates.push(rel);
    }
  });
  for (const f of files) {
    let digest: string;
    const text = f.size <= SNIFF_MAX_BYTES ? fs.readFileSync(f.sourcePath) : undefined;
    if (text) {
      digest = crypto.createHash('sha256').update(text).digest('hex');
      const why = secretShape(text.toString('latin1'));
      if (why) suspicious.push(`${f.zipPath} (${why})`);
      else if (hasSecretName(f.zipPath)) suspicious.push(`${f.zipPath} (a name in DefaultExcludes.SECRETS)`);
    } else {
      digest = sha256File(f.sourcePath);
    }
    hash.update(`${f.zipPath}\0${f.executable ? 'x' : '-'}\0${digest}\n`);
  }
  const warnings: ManifestWarning[] = [];
  if (suspicious.length) {
    warnings.push({
      id: 'possum-cdk:secretIncluded',
      message: `the bundle of ${entry} includes ${suspicious.length === 1 ? 'a file that looks' : `${suspicious.length} files that look`} like ` +
        `${suspicious.length === 1 ? 'a secret' : 'secrets'}: ${named(suspicious)}. Everything in the bundle reaches the build cache, ` +
        'the cloud assembly (cdk.out) or the upload bucket, and anyone who can read the function\'s code. Keep secrets in AWS Secrets ' +
        'Manager or SSM Parameter Store, or leave these files out: with the `exclude` bundling option (possum: --exclude PATTERN), or by ' +
        'moving them out of the code\'s folder (a placeholder that only looks like a secret can stay).',
    });
  }
  if (certificates.length) {
    warnings.push({
      id: 'possum-cdk:certificateExcluded',
      message: `${named(certificates)} in ${entry} ${certificates.length === 1 ? 'holds' : 'hold'} only certificates but ` +
        `${certificates.length === 1 ? 'is' : 'are'} left out by the default exclude '*.pem' (which keeps private keys out). ` +
        `If the function reads ${certificates.length === 1 ? 'it' : 'them'} at run time, add ${certificates.slice(0, NAMED).map(rel => `'!${rel}'`).join(', ')} to \`exclude\`.`,
    });
  }
  return { fingerprint: hash.digest('hex'), bytes: files.reduce((sum, f) => sum + f.size, 0), warnings };
}

let secretNames: PathRules | undefined;
/** Whether the file, or a folder it is in, has a name DefaultExcludes.SECRETS leaves out. */
function hasSecretName(zipPath: string): boolean {
  secretNames ??= new PathRules(DefaultExcludes.SECRETS);
  const parts = zipPath.split('/');
  if (secretNames.excludes(zipPath, false)) return true;
  for (let i = 1; i < parts.length; i++) if (secretNames.excludes(parts.slice(0, i).join('/'), true)) return true;
  return false;
}

function named(items: readonly string[]): string {
  return items.length <= NAMED ? items.join(', ') : `${items.slice(0, NAMED).join(', ')} and ${items.length - NAMED} more`;
}

function smallText(file: string): string | undefined {
  try {
    const st = fs.statSync(file);
    return st.size <= SNIFF_MAX_BYTES ? fs.readFileSync(file, 'latin1') : undefined;
  } catch {
    return undefined;
  }
}

const PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----/;

/**
 * Shapes of credentials with few false alarms: private keys, AWS secret keys and access key
 * ids, tokens with a vendor prefix, and URLs with a password in them. Each regex is linear
 * (no nested quantifiers), so a hostile file costs one pass.
 */
const SHAPES: Array<[RegExp, string]> = [
  [PRIVATE_KEY, 'holds a private key'],
  [/aws_secret_access_key\s*[=:]\s*["']?[A-Za-z0-9/+]{40}/i, 'holds an AWS secret access key'],
  [/\b(?:AKIA|ASIA)(?!IOSFODNN7EXAMPLE)[0-9A-Z]{16}\b/, 'holds an AWS access key id'],
  [/\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{40,}/, 'holds a GitHub token'],
  [/\bxox[abpors]-[A-Za-z0-9-]{10,}/, 'holds a Slack token'],
  [/\b(?:sk|rk)_live_[A-Za-z0-9]{16,}/, 'holds a Stripe secret key'],
  [/\bnpm_[A-Za-z0-9]{36}\b|_authToken\s*=\s*[^\s$]/, 'holds an npm token'],
  [/\bpypi-AgE[A-Za-z0-9_-]{50,}/, 'holds a PyPI token'],
];
/** scheme://user:password@host, where the password is not a placeholder ({x}, ${X}, <x>, %(x)s, ***). */
const URL_PASSWORD = /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s/:@'"]{1,200}:([^\s/@'"]{1,200})@[a-z0-9.-]+/gi;

function secretShape(text: string): string | undefined {
  for (const [re, why] of SHAPES) if (re.test(text)) return why;
  for (const m of text.matchAll(URL_PASSWORD)) {
    const password = m[1];
    if (!/[{}$<>%*]|^(?:password|passwd|pass|secret|token|xxx+|changeme)$/i.test(password)) return 'holds a URL with a password';
  }
  return undefined;
}
