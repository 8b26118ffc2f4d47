import { HEADER_LIST_ITEM } from "../../core/names.ts";

/**
 * Identity headers Vigil sets on an allow. Traefik strips client copies only of the headers listed in
 * the middleware's authResponseHeaders, so traefik/ and k8s/ must list every one of these
 * (test/deploy checks that they do).
 */
export const AUTH_RESPONSE_HEADERS = [
  "X-Auth-User",
  "X-Auth-Groups",
  "X-Auth-Acr",
  "X-Auth-Amr",
  "X-Auth-Risk",
  "X-Auth-Rule",
] as const;

/**
 * A comma-separated header list (X-Auth-Groups, X-Auth-Amr): items that could not be told apart
 * after the join (a comma, space, control or non-ASCII character) are left out, whatever their
 * source (user store, token), so no item can smuggle in another.
 */
export function headerList(items: readonly string[]): string {
  let list = "";
  for (const item of items) {
    if (!HEADER_LIST_ITEM.test(item)) continue;
    list = list === "" ? item : `${list},${item}`;
  }
  return list;
}
