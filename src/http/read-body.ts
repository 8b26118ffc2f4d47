/**
 * Request bodies, read with a hard limit while reading. A chunked body has no Content-Length, so
 * checking the size after `await request.text()` would buffer whatever a client sends (one 120 MiB
 * body doubled the process's memory). Here the stream is cancelled as soon as it passes the limit.
 *
 * Two layers: each endpoint reads with its own small limit (a clear 413 JSON answer), and Bun.serve
 * refuses anything past SERVER_MAX_BODY_BYTES itself (closing the connection), for routes that
 * never read their body.
 */

/** The largest body any endpoint accepts (WebAuthn answers and SETs are a few KiB). */
export const MAX_BODY_BYTES = 64 * 1024;

/** Bun.serve's maxRequestBodySize: a backstop above every endpoint's own limit. */
export const SERVER_MAX_BODY_BYTES = 256 * 1024;

export type BodyText = { ok: true; text: string } | { ok: false; tooLarge: true; limit: number };

/**
 * The body as UTF-8 text, or tooLarge as soon as more than `limit` bytes were declared or arrived
 * (the rest is never read: the stream is cancelled).
 */
export async function readBodyText(request: Request, limit: number = MAX_BODY_BYTES): Promise<BodyText> {
  const tooLarge = { ok: false, tooLarge: true, limit } as const;
  const declared = request.headers.get("content-length");
  if (declared !== null && !(Number(declared) <= limit)) return tooLarge;
  const body = request.body;
  if (body === null) return { ok: true, text: "" };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return tooLarge;
    }
    chunks.push(value);
  }
  return { ok: true, text: Buffer.concat(chunks, size).toString("utf8") };
}
