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
