/** Baseline (b): Hono answering 200 on /auth (and 404 elsewhere), served by Bun.serve. Port from argv[2]. */
import { Hono } from "hono";

const app = new Hono();
app.all("/auth", (c) => c.body(null, 200));
app.get("/healthz", (c) => c.body(null, 200));
const server = Bun.serve({ port: Number(process.argv[2] ?? 0), hostname: "127.0.0.1", fetch: app.fetch });
console.log(`listening ${server.port}`);
