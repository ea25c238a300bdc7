/**
 * The child side of a job run in its own Node.js process: the job arrives as JSON on
 * stdin, and one JSON line answers on stdout ({ok: true, ...result} or {ok: false, error}).
 * stderr stays free for progress.
 */
export async function answerJsonJob<I, O extends object>(run: (input: I) => Promise<O> | O, extra: () => object = () => ({})) {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  let answer: object;
  try {
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as I;
    answer = { ok: true, ...(await run(input)), ...extra() };
  } catch (e: any) {
    answer = { ok: false, error: e?.message ?? String(e), ...extra() };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}

/**
 * The child side of a worker that takes many jobs, one after another: each job is one JSON
 * line on stdin, each answer one JSON line on stdout, in order. It ends when stdin does.
 * Saves a Node.js start (and the loading of every module) per job.
 */
export async function answerJsonJobs<I, O extends object>(run: (input: I) => Promise<O> | O) {
  let pending = '';
  for await (const chunk of process.stdin) {
    pending += (chunk as Buffer).toString('utf8');
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.trim()) continue;
      let answer: object;
      try {
        answer = { ok: true, ...(await run(JSON.parse(line) as I)) };
      } catch (e: any) {
        answer = { ok: false, error: e?.message ?? String(e) };
      }
      process.stdout.write(JSON.stringify(answer) + '\n');
    }
  }
}
