/** A minimal browser stand-in for portal tests: a cookie jar, an Origin, a client IP (X-Forwarded-For). */
import type { Portal } from "./harness.ts";

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export class PortalClient {
  readonly jar = new Map<string, string>();

  constructor(
    private readonly portal: Portal,
    public ip: string,
  ) {}

  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  private absorb(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (attributes.some((a) => a.trim().toLowerCase() === "max-age=0") || value === "")
        this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  async post(
    path: string,
    body: unknown,
    options: { origin?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json",
      "user-agent": "Mozilla/5.0 portal-test",
      "x-forwarded-for": this.ip,
      cookie: this.cookieHeader(),
      ...options.headers,
    };
    const origin = options.origin === undefined ? this.portal.origin : options.origin;
    if (origin !== null) headers.origin = origin;
    const response = await fetch(`${this.portal.url}${path}`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      redirect: "manual",
    });
    this.absorb(response.headers);
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { text };
    }
    return { status: response.status, body: parsed, headers: response.headers };
  }

  async get(path: string): Promise<{ status: number; text: string; headers: Headers }> {
    const response = await fetch(`${this.portal.url}${path}`, {
      headers: { cookie: this.cookieHeader(), "x-forwarded-for": this.ip, accept: "text/html" },
      redirect: "manual",
    });
    return { status: response.status, text: await response.text(), headers: response.headers };
  }
}
