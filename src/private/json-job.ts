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
