/**
 * Header sizes are bounded: Bun refuses request headers over 16 KiB in all (431), /auth refuses a
 * User-Agent over MAX_USER_AGENT_BYTES (431 with a JSON reason, nothing read from the store), and
 * the header bytes /auth reads beyond an ordinary request's are counted towards a full garbage
 * collection, since JavaScriptCore does not count them itself. Real HTTP, real Redis.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import {
  createHeaderGarbageBudget,
  HEADER_GARBAGE_DEFAULTS,
} from "../../src/http/forward-auth/header-garbage.ts";
import { MAX_USER_AGENT_BYTES } from "../../src/http/forward-auth/request.ts";
import { startVigil, type TestVigil } from "../helpers/vigil.ts";

const POLICY = `
rules:
  - { name: app, hosts: ["app.example.com"], action: authenticated }
default: deny
`;

let vigil: TestVigil;
let collections = 0;
let storeReads = 0;

beforeAll(async () => {
  const high = { session: 1e9, user: 1e9, ip: 1e9 };
  vigil = await startVigil({
    policyText: POLICY,
    config: { risk: { rate: { soft: high, hard: high } } },
    deps: { collectGarbage: () => collections++ },
  });
  const read = vigil.stores.decisions.read.bind(vigil.stores.decisions);
  vigil.stores.decisions.read = (query) => {
    storeReads++;
    return read(query);
  };
});
afterAll(async () => {
  await vigil?.close();
});

const forwarded = (extra: Record<string, string> = {}) => ({
  "X-Forwarded-Method": "GET",
  "X-Forwarded-Proto": "https",
  "X-Forwarded-Host": "app.example.com",
  "X-Forwarded-Uri": "/home",
  "X-Forwarded-For": "198.51.100.20",
  Accept: "application/json",
  ...extra,
});

describe("User-Agent", () => {
  test(`up to ${MAX_USER_AGENT_BYTES} bytes is decided as usual`, async () => {
    const response = await fetch(`${vigil.url}/auth`, {
      headers: forwarded({ "User-Agent": "u".repeat(MAX_USER_AGENT_BYTES) }),
    });
    expect(response.status).toBe(401);
  });

  test("one byte more: 431 header_too_large, and the store is not read", async () => {
    const before = storeReads;
    const response = await fetch(`${vigil.url}/auth`, {
      headers: forwarded({ "User-Agent": "u".repeat(MAX_USER_AGENT_BYTES + 1) }),
    });
    expect(response.status).toBe(431);
    expect(response.headers.get("cache-control")).toContain("no-store");
    expect(await response.json()).toEqual({
      error: "header_too_large",
      reason: "header_too_large",
      description: `User-Agent is longer than ${MAX_USER_AGENT_BYTES} bytes`,
    });
    expect(storeReads).toBe(before);
  });
});

describe("User-Agent on the portal's ceremony endpoints", () => {
  test("one byte over the limit: 431 header_too_large, and no challenge is stored", async () => {
    const puts: string[] = [];
    const { oneTime } = vigil.stores;
    const put = oneTime.put.bind(oneTime);
    oneTime.put = async (key, value, ttlMs) => {
      puts.push(key);
      await put(key, value, ttlMs);
    };
    const post = (userAgent: string) =>
      fetch(`${vigil.url}/webauthn/login/options`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          origin: vigil.config.publicOrigin,
          "x-forwarded-for": "198.51.100.21",
          "user-agent": userAgent,
        },
        body: "{}",
      });
    const refused = await post("u".repeat(MAX_USER_AGENT_BYTES + 1));
    expect(refused.status).toBe(431);
    expect((await refused.json()).error).toBe("header_too_large");
    expect(puts).toEqual([]);
    expect((await post("u".repeat(MAX_USER_AGENT_BYTES))).status).toBe(200);
    expect(puts).toHaveLength(1);
    oneTime.put = put;
  });
});

describe("all headers together", () => {
  /** A raw request: fetch itself may refuse to send headers this large. */
  function rawStatusLine(headers: string): Promise<string> {
    const { hostname, port } = new URL(vigil.url);
    return new Promise((resolve) => {
      const socket = connect(Number(port), hostname, () =>
        socket.write(`GET /auth HTTP/1.1\r\nHost: vigil\r\n${headers}\r\n`),
      );
      let received = "";
      socket.on("data", (data) => {
        received += data.toString("latin1");
        if (received.includes("\r\n")) {
          resolve(received.slice(0, received.indexOf("\r\n")));
          socket.destroy();
        }
      });
      socket.on("error", () => resolve(received || "error"));
      socket.on("close", () => resolve(received || "closed"));
    });
  }

  const headerLines = (cookieBytes: number) =>
    `${Object.entries(forwarded())
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("")}Cookie: a=${"c".repeat(cookieBytes)}\r\n`;

  test("over 16 KiB in all: 431 from the server before Vigil reads anything", async () => {
    expect(await rawStatusLine(headerLines(17 * 1024))).toBe("HTTP/1.1 431 Request Header Fields Too Large");
  });

  test("under it: decided as usual", async () => {
    expect(await rawStatusLine(headerLines(12 * 1024))).toBe("HTTP/1.1 401 Unauthorized");
  });
});

describe("header bytes beyond an ordinary request lead to a collection", () => {
  test("ordinary requests never do; a flood of 8 KiB cookies does, once per budget", async () => {
    const before = collections;
    for (let i = 0; i < 200; i++) {
      await fetch(`${vigil.url}/auth`, {
        headers: forwarded({ Cookie: `a=${i}`, "User-Agent": "Mozilla/5.0" }),
      });
    }
    expect(collections).toBe(before);

    const cookie = "c".repeat(8 * 1024);
    const excess = 8 * 1024 - HEADER_GARBAGE_DEFAULTS.typicalBytes;
    const requests = Math.ceil((2 * HEADER_GARBAGE_DEFAULTS.budgetBytes) / excess) + 50;
    let next = 0;
    const worker = async () => {
      while (next < requests) {
        next++;
        const response = await fetch(`${vigil.url}/auth`, {
          headers: forwarded({ Cookie: `a=${next}${cookie}` }),
        });
        expect(response.status).toBe(401);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(collections - before).toBe(2);
  }, 60_000);

  test("the budget counts only what is above the typical size", () => {
    let runs = 0;
    const count = createHeaderGarbageBudget({ typicalBytes: 100, budgetBytes: 1000, collect: () => runs++ });
    for (let i = 0; i < 1000; i++) count(100);
    expect(runs).toBe(0);
    for (let i = 0; i < 9; i++) count(200);
    expect(runs).toBe(0);
    count(200);
    expect(runs).toBe(1);
    count(2200);
    expect(runs).toBe(2);
  });
});
