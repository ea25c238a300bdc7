/**
 * What went wrong when pip or uv failed, in words that name the real cause.
 *
 * pip says "Could not find a version that satisfies the requirement X (from versions:
 * none)" for a refused connection, a 401, a package that does not exist and a package
 * with no wheel for the target alike; uv tells them apart. So a pip failure of that kind is
 * diagnosed by asking uv the same question (see installer.ts), and both tools' outputs are
 * classified here. The tools' own error lines are kept in every message.
 */

export type FailureCause =
  | 'disk-full' | 'git' | 'network' | 'proxy' | 'tls' | 'auth' | 'no-such-package' | 'no-such-version' | 'no-wheel' | 'requires-python' | 'hash-mismatch'
  /** pip's "no matching distribution": one of the above, not yet told apart. */
  | 'not-found'
  | 'unknown';

export interface Classified {
  readonly cause: FailureCause;
  /** The package the tool names, when it names one. */
  readonly requirement?: string;
  /** A Requires-Python specifier, for `requires-python`. */
  readonly requiresPython?: string;
}

/**
 * A server certificate not trusted here (a private authority, a TLS-intercepting proxy), as
 * uv (rustls, native-tls) and pip (Python's ssl) say it: told apart from other network
 * errors, since a certificate setting fixes it.
 */
const UNTRUSTED_CERTIFICATE = /invalid peer certificate|UnknownIssuer|certificate verify failed|CERTIFICATE_VERIFY_FAILED|self[- ]signed certificate|unable to get local issuer certificate/i;

/**
 * A proxy that asks for credentials it was not given, or refuses the ones it was: uv's words
 * for an http index (the proxy's 407 answer) and an https one (the tunnel refused), and pip's
 * retry warnings for an https one. For an http index pip says nothing of it ("from versions:
 * none"), and uv under pip's index strategy calls the package "not found in the package
 * registry"; index-probe.ts tells those apart.
 */
const PROXY_REFUSED = /407 Proxy Authentication Required|tunnel error: proxy authori[sz]ation required/i;

/** ENOSPC and EDQUOT as Python (`[Errno 28]`) and Rust (`os error 28`) print them. */
const DISK_FULL = /No space left on device|Disk quota exceeded|\[Errno (?:28|122)\]|os error (?:28|122)\b/i;

/**
 * A git source that could not be fetched: told apart from the index's network errors, since
 * no index setting fixes it. The requirement is the git URL the tool names.
 */
function gitFailure(output: string): Classified | undefined {
  const git = /git clone .*did not run successfully|Git operation failed|failed to clone into|failed to fetch commit|process didn't exit successfully: `git |fatal: (?:unable to access|repository .* not found|could not read Username|Authentication failed)|Failed to (?:download and build|resolve|fetch) `[^`]*git\+/i;
  if (!git.test(output)) return undefined;
  const url = /(git\+[a-z]+:\/\/[^\s`'"]+)/i.exec(output)?.[1] ?? /Cloning (\S+)/.exec(output)?.[1];
  // A token in the URL (git+https://TOKEN@host/...) stays out of the message.
  return { cause: 'git', requirement: url?.replace(/\/\/[^/@\s]+@/, '//***@') };
}

/** Classifies uv's output (`error:`/`cause:`/`hint:` lines). */
export function classifyUv(output: string): Classified {
  const text = output.replace(/\s+/g, ' ');
  let m: RegExpExecArray | null;
  if (DISK_FULL.test(text)) return { cause: 'disk-full' };
  const git = gitFailure(output);
  if (git) return git;
  if (/lack of valid authentication credentials|\b401 Unauthorized|\b403 Forbidden|Missing credentials/i.test(text)) {
    return { cause: 'auth', requirement: /Because (\S+) was not found/.exec(text)?.[1] };
  }
  if (UNTRUSTED_CERTIFICATE.test(text)) return { cause: 'tls' };
  if (PROXY_REFUSED.test(text)) return { cause: 'proxy' };
  if (/Failed to fetch|error sending request|tcp connect error|dns error|Connection refused|Request failed after|timed out|Network is unreachable/i.test(text)) {
    return { cause: 'network' };
  }
  if (/Hash mismatch for/i.test(text)) return { cause: 'hash-mismatch', requirement: /Hash mismatch for `([^`]+)`/.exec(text)?.[1] };
  if ((m = /Because (\S+) was not found in the package registry/.exec(text))) return { cause: 'no-such-package', requirement: m[1] };
  if ((m = /Because there is no version of (\S+?)(?:,| and |$)/.exec(text))) return { cause: 'no-such-version', requirement: m[1] };
  if ((m = /Because (?:only )?(\S+?) has no (?:usable )?wheels|Because (\S+?) has no wheels with a matching|(\S+?) has no wheels with a matching/.exec(text))) {
    return { cause: 'no-wheel', requirement: m[1] ?? m[2] ?? m[3] };
  }
  if ((m = /Because (?:the current Python version .*? does not satisfy|the requested Python version .*? does not satisfy)? ?(\S+?) depends on Python ?([^ ,]+)/.exec(text))) {
    return { cause: 'requires-python', requirement: m[1], requiresPython: m[2] };
  }
  if ((m = /requires Python ([^ ,]+)/.exec(text))) return { cause: 'requires-python', requiresPython: m[1] };
  if ((m = /building source distributions is disabled|no matching distributions? available|Distribution not found/i.exec(text))) return { cause: 'no-wheel' };
  return { cause: 'unknown' };
}

/** Classifies pip's output (`ERROR:` lines and its connection warnings). */
export function classifyPip(output: string): Classified {
  let m: RegExpExecArray | null;
  if (DISK_FULL.test(output)) return { cause: 'disk-full' };
  const git = gitFailure(output);
  if (git) return git;
  if (/THESE PACKAGES DO NOT MATCH THE HASHES|Hash mismatch/i.test(output)) {
    return { cause: 'hash-mismatch', requirement: /^\s+(\S+==\S+) from /m.exec(output)?.[1] };
  }
  if ((m = /Package '([^']+)' requires a different Python: \S+ not in '([^']+)'/.exec(output))) {
    return { cause: 'requires-python', requirement: m[1], requiresPython: m[2] };
  }
  if (/\b401 Client Error|\b403 Client Error|HTTP error 40[13]|401 Error, Credentials not correct/i.test(output)) return { cause: 'auth' };
  const requirement = /No matching distribution found for (\S+)/.exec(output)?.[1];
  if (UNTRUSTED_CERTIFICATE.test(output)) return { cause: 'tls', requirement };
  if (PROXY_REFUSED.test(output)) return { cause: 'proxy', requirement };
  if (/NewConnectionError|Failed to establish a new connection|Name or service not known|Temporary failure in name resolution|ConnectTimeoutError|Max retries exceeded|ProxyError|SSLError/i.test(output)) {
    return { cause: 'network', requirement };
  }
  if (requirement) return { cause: 'not-found', requirement };
  return { cause: 'unknown' };
}

/**
 * The tools' own error lines (pip's `ERROR:`, uv's `error:`/`cause:`/`hint:`/`╰─▶` and
 * their continuation lines), without the download chatter; connection retries collapsed
 * to their first line; at most `maxLines` lines of at most 400 characters.
 */
export function toolErrorLines(output: string, maxLines = 30): string {
  const lines = output.split('\n');
  const kept: string[] = [];
  let inError = false;
  let retries = 0;
  for (const line of lines) {
    const trimmed = line.trim();
    if (/^WARNING: Retrying/.test(trimmed)) {
      if (retries++ === 0) kept.push(trimmed);
      continue;
    }
    if (/^(ERROR:|error:|Error:|× |╰─▶|cause:|hint:|Because |caused by:)/.test(trimmed) || /^\s*(cause|hint):/.test(line)) {
      inError = true;
      kept.push(line.trimEnd());
    } else if (inError && /^\s+\S/.test(line)) {
      kept.push(line.trimEnd());
    } else if (trimmed === '') {
      inError = false;
    } else if (!/^(Looking in|Collecting|Downloading|Using|Resolved|Prepared|Installed|Installing|Building|Successfully|Requirement already| +[+-] )/.test(trimmed)) {
      // Other lines are kept only while inside an error block.
      inError = inError && /^\s/.test(line);
    }
  }
  const chosen = kept.length > 0 ? kept : lines.filter(l => l.trim()).slice(-10);
  const limited = chosen.slice(0, maxLines).map(l => l.length > 400 ? `${l.slice(0, 400)}... (${l.length} characters)` : l);
  if (chosen.length > maxLines) limited.push(`... (${chosen.length - maxLines} more lines)`);
  return limited.join('\n');
}
