/**
 * Credentials inside index URLs (`https://user:token@host/simple`): kept out of every
 * log line, error, cache key and template.
 */

/** Removes `user:password@` from a URL (a `${VAR}` in it is never expanded here). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1');
}

/** Expands `${VAR}` / `$VAR` in a URL from the environment, as pipenv does for sources. */
export function expandUrl(url: string, env: NodeJS.ProcessEnv = process.env): string {
  return url.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a, b) => env[a ?? b] ?? '');
}

/** Passwords and tokens inside URLs (raw and URL-decoded), so they can be scrubbed from any message. */
export function secretsOf(urls: readonly string[]): string[] {
  const secrets: string[] = [];
  for (const url of urls) {
    const m = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]*)@/i.exec(url);
    if (!m) continue;
    for (const part of m[1].split(':')) {
      if (part.length >= 3) {
        secrets.push(part);
        try {
          secrets.push(decodeURIComponent(part));
        } catch {
          // not URL-encoded
        }
      }
    }
  }
  return secrets;
}

/** Replaces every secret in `text` with `****`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('****');
  return out;
}
