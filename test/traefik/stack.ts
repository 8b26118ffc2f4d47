/**
 * The shipped deployment on loopback: Traefik (the pinned build) loaded with traefik/traefik.yml
 * and traefik/dynamic/ (addresses and ports substituted, nothing else), two Vigil processes on
 * traefik/vigil.yaml and traefik/policy.yaml sharing one real Redis, and an upstream app in the
 * test process that records every request it receives and echoes its headers back.
 */
import { createHash, X509Certificate } from "node:crypto";
import { connect } from "node:tls";
import type { ServerWebSocket } from "bun";
import { type RedisHandle, startRedis } from "../helpers/redis-server.ts";
import {
  loopbackEntryPoints,
  shippedTraefikFiles,
  startTraefik,
  type TestTraefik,
} from "../helpers/traefik.ts";
import { ROOT, spawnVigilProcess, type VigilProcess } from "../helpers/vigil-process.ts";

/** The hosts traefik/dynamic/vigil.yml routes (Chromium maps *.localhost to loopback). */
export const PORTAL_HOST = "auth.example.localhost";
export const APP_HOST = "app.example.localhost";

/** What the upstream app received. */
export interface Seen {
  method: string;
  path: string;
  /** Header names as Bun reports them (lower case) → value. */
  headers: Record<string, string>;
  bodyBytes: number;
}

export interface Stack {
  redis: RedisHandle;
  /** The replica Traefik calls (traefik/dynamic's vigil service). */
  vigil: VigilProcess;
  /** A second replica on the same Redis that Traefik does not call. */
  replica: VigilProcess;
  traefik: TestTraefik;
  upstream: ReturnType<typeof Bun.serve>;
  adminToken: string;
  /** https://auth.example.localhost:PORT and https://app.example.localhost:PORT */
  portalOrigin: string;
  appOrigin: string;
  websecurePort: number;
  webPort: number;
  seen: Seen[];
  stop(): Promise<void>;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** The app: records the request, answers an HTML page listing the headers (id = lower-case name). */
function startUpstream(seen: Seen[]) {
  return Bun.serve<{ path: string }>({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request, server) {
      const url = new URL(request.url);
      const headers = Object.fromEntries(request.headers.entries());
      const body = request.body ? await request.arrayBuffer() : new ArrayBuffer(0);
      seen.push({ method: request.method, path: url.pathname, headers, bodyBytes: body.byteLength });
      if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
        if (server.upgrade(request, { data: { path: url.pathname } })) return undefined;
        return new Response("upgrade failed", { status: 400 });
      }
      const rows = Object.entries(headers)
        .map(
          ([name, value]) =>
            `<dt>${escapeHtml(name)}</dt><dd id="${escapeHtml(name)}">${escapeHtml(value)}</dd>`,
        )
        .join("");
      return new Response(
        `<!doctype html><title>app</title><h1>app page ${escapeHtml(url.pathname)}</h1><dl>${rows}</dl>`,
        {
          headers: {
            "content-type": "text/html; charset=utf-8",
            // The app's own cookie: Traefik must keep it next to any auth cookie.
            "set-cookie": "app_pref=1; Path=/; HttpOnly; Secure; SameSite=Lax",
          },
        },
      );
    },
    websocket: {
      message(socket: ServerWebSocket<{ path: string }>, message) {
        socket.send(`echo ${socket.data.path} ${String(message)}`);
      },
    },
  });
}

export async function startStack(): Promise<Stack> {
  const seen: Seen[] = [];
  const redis = await startRedis({ own: true });
  const upstream = startUpstream(seen);
  const { web, websecure } = await loopbackEntryPoints();
  const websecurePort = Number(websecure.split(":")[1]);
  const webPort = Number(web.split(":")[1]);
  const portalOrigin = `https://${PORTAL_HOST}:${websecurePort}`;
  const appOrigin = `https://${APP_HOST}:${websecurePort}`;
  const adminToken = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url");

  // As compose.yml runs it: the shipped files, with the environment the deployment sets.
  const env = {
    VIGIL_CONFIG: `${ROOT}/traefik/vigil.yaml`,
    VIGIL_POLICY: `${ROOT}/traefik/policy.yaml`,
    REDIS_URL: redis.url,
    VIGIL_PUBLIC_URL: portalOrigin,
    VIGIL_TRUSTED_PROXIES: "127.0.0.1/32",
    VIGIL_ADMIN_TOKEN: adminToken,
    VIGIL_LOG_LEVEL: "info",
  };
  const started: { stop(): Promise<void> }[] = [redis];
  const stopAll = async () => {
    upstream.stop(true);
    for (const part of started.reverse()) await part.stop().catch(() => {});
  };
  try {
    const vigil = await spawnVigilProcess(env);
    started.push(vigil);
    const replica = await spawnVigilProcess(env);
    started.push(replica);
    const files = shippedTraefikFiles({
      web,
      websecure,
      vigil: vigil.url,
      whoami: `http://127.0.0.1:${upstream.port}`,
    });
    const traefik = await startTraefik(files, async () => {
      const answer = await httpsRequest(websecurePort, { host: PORTAL_HOST, path: "/login" });
      return answer.status === 200;
    });
    started.push(traefik);
    return {
      redis,
      vigil,
      replica,
      traefik,
      upstream,
      adminToken,
      portalOrigin,
      appOrigin,
      websecurePort,
      webPort,
      seen,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

export interface RawAnswer {
  status: number;
  /** Header lines as received: [name, value] with the wire spelling. */
  headers: [string, string][];
  body: string;
  header(name: string): string | undefined;
  all(name: string): string[];
}

/**
 * One HTTP/1.1 request over TLS to Traefik, written byte for byte: header names go on the wire
 * exactly as given (X_Auth_User, X.Auth.User, lower case), which fetch does not promise.
 * Traefik's certificate is its self-signed default, so it is not verified here.
 */
export function httpsRequest(
  port: number,
  {
    method = "GET",
    host,
    path,
    headers = [],
    body,
  }: { method?: string; host: string; path: string; headers?: [string, string][]; body?: Uint8Array },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername: host, rejectUnauthorized: false });
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error(`no answer to ${method} ${path} within 15 s`)));
    // Traefik may answer a refused upload before reading it all and reset the connection: an
    // answer already received is the answer.
    socket.on("error", (error) => {
      const received = Buffer.concat(chunks);
      if (received.includes("\r\n\r\n")) resolve(parseAnswer(received, method));
      else reject(error);
    });
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => {
      try {
        resolve(parseAnswer(Buffer.concat(chunks), method));
      } catch (error) {
        reject(error);
      }
    });
    socket.on("secureConnect", () => {
      // As a browser sends it for a non-default port.
      const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}:${port}`, "Connection: close"];
      for (const [name, value] of headers) lines.push(`${name}: ${value}`);
      if (body) lines.push(`Content-Length: ${body.byteLength}`);
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (body) socket.write(body);
    });
  });
}

function parseAnswer(raw: Buffer, method: string): RawAnswer {
  const split = raw.indexOf("\r\n\r\n");
  if (split < 0) throw new Error(`incomplete HTTP answer: ${raw.toString("latin1").slice(0, 200)}`);
  const [statusLine = "", ...lines] = raw.subarray(0, split).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
  const headers = lines.map((line) => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon), line.slice(colon + 1).trim()] as [string, string];
  });
  const all = (name: string) =>
    headers.filter(([key]) => key.toLowerCase() === name.toLowerCase()).map(([, value]) => value);
  let bodyBytes = raw.subarray(split + 4);
  if (all("transfer-encoding").some((value) => value.toLowerCase() === "chunked")) {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const end = bodyBytes.indexOf("\r\n", at);
      const size = Number.parseInt(bodyBytes.subarray(at, end).toString("latin1"), 16);
      if (!(size > 0)) break;
      parts.push(bodyBytes.subarray(end + 2, end + 2 + size));
      at = end + 2 + size + 2;
    }
    bodyBytes = Buffer.concat(parts);
  }
  return {
    status,
    headers,
    body: method === "HEAD" ? "" : bodyBytes.toString("utf8"),
    header: (name) => all(name)[0],
    all,
  };
}

/**
 * The SHA-256 of the public key Traefik serves on `port` (base64), for Chromium's
 * --ignore-certificate-errors-spki-list: the browser then treats Traefik's self-signed default
 * certificate as valid, as it would a locally trusted one (mkcert, docs/deployment.md), so the
 * page is a secure context without certificate errors and WebAuthn runs.
 */
export function servedKeyPin(port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername: host, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      const spki = new X509Certificate(raw).publicKey.export({ type: "spki", format: "der" });
      resolve(createHash("sha256").update(spki).digest("base64"));
    });
    socket.on("error", reject);
  });
}
