/** Request bodies of the browser pages' endpoints, bounded while read (never buffered past the limit). */
import type { Context } from "hono";

export const MAX_FORM_BYTES = 8 * 1024;

/** The body as text, or undefined when it is (or announces itself as) larger than maxBytes. */
export async function readBoundedText(c: Context, maxBytes: number): Promise<string | undefined> {
  if (Number(c.req.header("content-length") ?? 0) > maxBytes) return undefined;
  const body = c.req.raw.body;
  if (body === null) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The form's fields, or undefined when the body is not a small urlencoded form. */
export async function readForm(c: Context): Promise<URLSearchParams | undefined> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return undefined;
  const text = await readBoundedText(c, MAX_FORM_BYTES);
  return text === undefined ? undefined : new URLSearchParams(text);
}
