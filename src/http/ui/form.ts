/** HTML form posts of the browser pages, bounded while read (see http/read-body.ts). */
import type { Context } from "hono";
import { readBodyText } from "../read-body.ts";

export const MAX_FORM_BYTES = 8 * 1024;

/** The form's fields, or undefined when the body is not a small urlencoded form. */
export async function readForm(c: Context): Promise<URLSearchParams | undefined> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return undefined;
  const body = await readBodyText(c.req.raw, MAX_FORM_BYTES);
  return body.ok ? new URLSearchParams(body.text) : undefined;
}
