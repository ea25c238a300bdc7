/**
 * Worker-thread entry of buildBundlesSync: each request is a list of bundle plans (made by
 * the caller), built into the cache at once by a pool of bundle workers; the answer comes
 * when all are built.
 */
import { BundlePool } from './bundle-pool';
import { BundlePlan } from './bundler';
import { buildInParallel } from './parallel-build';
import { serveSync } from './sync-thread';

serveSync(async ({ plans, env }: { plans: string; env: NodeJS.ProcessEnv }) => {
  // This thread's environment is its own copy: it becomes the caller's, as of this call.
  for (const name of Object.keys(process.env)) if (!(name in env)) delete process.env[name];
  Object.assign(process.env, env);
  const pool = new BundlePool();
  try {
    const built = await buildInParallel(pool, (JSON.parse(plans) as BundlePlan[]).map(plan => ({ plan })));
    return { ok: true, warnings: built.map(b => b.warnings) };
  } finally {
    // Each worker ends after its job: nothing of the pool outlives the call.
    pool.close();
  }
});
