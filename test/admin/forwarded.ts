/** Traefik-style forwardAuth requests for tests (X-Forwarded-*, cookie or bearer, JSON client). */
export interface ForwardedOptions {
  host?: string;
  uri?: string;
  method?: string;
  cookie?: string;
  bearer?: string;
  ip?: string;
  browser?: boolean;
}

export function forwardedHeaders(options: ForwardedOptions = {}): Record<string, string> {
  const headers: Record<string, string> = {
    "x-forwarded-method": options.method ?? "GET",
    "x-forwarded-proto": "https",
    "x-forwarded-host": options.host ?? "app.example.com",
    "x-forwarded-uri": options.uri ?? "/",
    "x-forwarded-for": options.ip ?? "203.0.113.7",
    accept: options.browser ? "text/html" : "application/json",
    "user-agent": "vigil-test",
  };
  if (options.cookie) headers.cookie = `vigil_session=${options.cookie}`;
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  return headers;
}

export function authRequest(baseUrl: string, options: ForwardedOptions = {}, query = ""): Promise<Response> {
  return fetch(`${baseUrl}/auth${query}`, { headers: forwardedHeaders(options), redirect: "manual" });
}

/** A policy used by the identity, events and replica tests. */
export const TEST_POLICY = `
rules:
  - { name: health, paths: ["/healthz"], action: bypass }
  - { name: admin-area, paths: ["/admin/**"], groups: [admins], action: authenticated }
  - { name: sensitive, paths: ["/sensitive/**"], action: stepup, max_age: 5m }
  - { name: app, action: authenticated }
default: deny
`;
