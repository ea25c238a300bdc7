import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../atomic-file';
import { BuildCache } from '../cache';

/**
 * PyPI's simple pages come with `Cache-Control: max-age=600, public`, and uv keeps a page
 * that fresh without asking again. That matters here because each bundle runs uv twice: the
 * install step right after the resolution needs the same pages, and with the header it reads
 * them from uv's cache. A proxy or mirror between this machine and PyPI may drop the header
 * (this project's benchmark machine has one that does). Then every uv process asks for every
 * page again, each time with a DNS lookup and a TLS handshake of its own, and the install
 * step of each bundle waits for that.
 *
 * So when the index is PyPI, possum gives uv a configuration file naming PyPI as the default
 * index with PyPI's own policy. Against PyPI itself that changes nothing: the header says the
 * same. Another index keeps its own policy, since only its operators know how long its pages
 * may be kept.
 */
/** PyPI's index as uv itself spells its default. */
const PYPI_SIMPLE = 'https://pypi.org/simple';

/** Whether a main index is that very address (a trailing slash aside): PyPI, which this file's policy is for. */
export function isPypiItself(indexUrl: string): boolean {
  return indexUrl.replace(/\/$/, '').toLowerCase() === PYPI_SIMPLE;
}

const CONFIG = [
  '# Written by possum-cdk: PyPI as the default index, with the cache policy PyPI sends itself,',
  '# for the case where a proxy on the way drops it. Rewritten when it differs.',
  '[[index]]',
  `url = "${PYPI_SIMPLE}"`,
  'default = true',
  'cache-control = { api = "max-age=600, public" }',
  '',
].join('\n');

/**
 * The path of uv's configuration for PyPI as the default index, written under the build
 * cache (the user's own folder: the file decides where packages come from). Read at every
 * call, not remembered: a cache deleted while this process runs must not leave uv a path
 * to nothing.
 */
export function pypiIndexConfig(cacheRoot: string): string {
  const file = new BuildCache(cacheRoot).toolPath('uv-pypi-index.toml');
  let current: string | undefined;
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== CONFIG) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, CONFIG);
  }
  return file;
}
