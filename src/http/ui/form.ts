/** Reads an HTML form post (application/x-www-form-urlencoded), bounded while read. */
import type { Context } from "hono";

export const MAX_FORM_BYTES = 8 * 1024;

/** The form's fields, or undefined when the body is not a small urlencoded form. */
export async function readForm(c: Context): Promise<URLSearchParams | undefined> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return undefined;
  if (Number(c.req.header("content-length") ?? 0) > MAX_FORM_BYTES) return undefined;
  const body = c.req.raw.body;
  if (body === null) return new URLSearchParams();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_FORM_BYTES) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}
