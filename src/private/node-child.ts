/**
 * The environment of this library's own Node.js child processes (bundle workers, the zip
 * engine). When NODE_EXTRA_CA_CERTS is set, Node.js 20 builds its whole certificate store
 * (its own root certificates and the file's) at every start, TLS or not: 30 ms of CPU for a
 * one-certificate file, 50 ms for a corporate bundle of a hundred-odd, more than the rest of
 * a bare start (20 ms). A child that opens no TLS connection of its own is
 * started without it; the value is held under another name, and the child puts it back
 * (restoreHeldEnvironment) before it starts anything, so that uv, pip and the Node.js
 * probes it runs see the user's environment unchanged.
 */

const VARIABLE = 'NODE_EXTRA_CA_CERTS';
const HELD = 'POSSUM_HELD_NODE_EXTRA_CA_CERTS';

/**
 * `env` for a Node.js child of this library.
 * @param tls whether the child itself opens TLS connections (the remote cache's S3 requests):
 *            then it keeps NODE_EXTRA_CA_CERTS, as it may need those certificates
 */
export function nodeChildEnvironment(env: NodeJS.ProcessEnv, tls: boolean): NodeJS.ProcessEnv {
  if (tls || env[VARIABLE] === undefined) return env;
  const { [VARIABLE]: held, ...rest } = env;
  return { ...rest, [HELD]: held };
}

/** In such a child, first thing: the environment its own children get is the user's again. */
export function restoreHeldEnvironment(env: NodeJS.ProcessEnv = process.env) {
  const held = env[HELD];
  if (held === undefined) return;
  env[VARIABLE] = held;
  delete env[HELD];
}
