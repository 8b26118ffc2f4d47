/** Baseline (a): a bare Bun.serve answering 200 with an empty body. Port from argv[2]. */
const server = Bun.serve({
  port: Number(process.argv[2] ?? 0),
  hostname: "127.0.0.1",
  fetch: () => new Response(null, { status: 200 }),
});
console.log(`listening ${server.port}`);
