/** The forwardAuth headers Traefik sends for a request to app.example.com. */
export function forwardHeaders(uri: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    "X-Forwarded-Method": "GET",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "app.example.com",
    "X-Forwarded-Uri": uri,
    "X-Forwarded-For": "198.51.100.23",
    "User-Agent": "vigil-fault-test",
    Accept: "application/json",
    ...extra,
  };
}
