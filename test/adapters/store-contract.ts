/**
 * The contract every state adapter honours (src/ports.ts). Run by redis-stores.test.ts against a
 * real redis-server and by memory-stores.test.ts; each test gets fresh, isolated stores.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import type { User } from "../../src/core/types.ts";
import {
  type DecisionStateQuery,
  ipReputationKey,
  type NewSession,
  type StoredCredential,
  type Stores,
} from "../../src/ports.ts";
import { sessionIdFromToken } from "../../src/session/token.ts";

/** Store options the contract varies. */
export interface ContractStoreOptions {
  maxSessionsPerUser?: number;
}

const HOUR = 3_600_000;
const MINUTE = 60_000;

const newSessionInput = (overrides: Partial<NewSession> = {}): NewSession => ({
  userId: "alice",
  acr: "phr",
  amr: ["hwk", "user", "mfa"],
  authAt: 1_000,
  stepUpAt: 0,
  ip: "203.0.113.7",
  country: "DE",
  uaHash: "ua-hash-1",
  ...overrides,
});

const user = (id: string, overrides: Partial<User> = {}): User => ({
  id,
  displayName: `User ${id}`,
  status: "active",
  groups: ["staff"],
  createdAt: 500,
  ...overrides,
});

const credential = (id: string, userId: string, createdAt = 1_000): StoredCredential => ({
  id,
  userId,
  publicKey: `pk-${id}`,
  counter: 0,
  transports: ["internal", "hybrid"],
  deviceType: "multiDevice",
  backedUp: true,
  createdAt,
  lastUsedAt: createdAt,
  label: "passkey",
});

const sleep = (ms: number) => Bun.sleep(ms);

export function runStoreContract(
  name: string,
  makeStores: (options?: ContractStoreOptions) => Promise<Stores> | Stores,
): void {
  describe(`${name} store contract`, () => {
    let stores: Stores;
    beforeEach(async () => {
      stores = await makeStores();
    });

    const now = Date.now();
    const query = (overrides: Partial<DecisionStateQuery> = {}): DecisionStateQuery => ({
      sessionId: undefined,
      userId: undefined,
      clientKey: "198.51.100.1",
      now,
      rateWindowMs: MINUTE,
      location: undefined,
      idleTimeoutMs: HOUR,
      ...overrides,
    });

    describe("sessions", () => {
      test("create returns a secret token <user tag>.<secret> whose SHA-256 is in the stored id", async () => {
        const { token, session } = await stores.sessions.create(newSessionInput(), now, 12 * HOUR);
        const tag = Buffer.from("alice").toString("base64url");
        expect(token).toMatch(new RegExp(`^${tag}\\.[A-Za-z0-9_-]{43}$`));
        expect(session.id).toBe(`${tag}.${new Bun.CryptoHasher("sha256").update(token).digest("hex")}`);
        expect(session.id).toBe(sessionIdFromToken(token));
        expect(session.createdAt).toBe(now);
        expect(session.lastSeenAt).toBe(now);
        expect(Number.isNaN(session.lastLat)).toBe(true);
        expect(session.lastLocatedAt).toBe(0); // never located
        expect(await stores.sessions.get(session.id)).toEqual(session);
      });

      test("a token whose user tag was edited names no session", async () => {
        await stores.users.put(user("bob"));
        const { token } = await stores.sessions.create(newSessionInput(), now, HOUR);
        const secret = token.slice(token.indexOf(".") + 1);
        const forged = `${Buffer.from("bob").toString("base64url")}.${secret}`;
        expect(await stores.sessions.get(sessionIdFromToken(forged))).toBeUndefined();
        expect(await stores.sessions.get(sessionIdFromToken(secret))).toBeUndefined();
        const state = await stores.decisions.read(query({ sessionId: sessionIdFromToken(forged) }));
        expect(state.session).toBeUndefined();
        expect(state.user).toBeUndefined();
      });

      test("tokens and ids are unique per session", async () => {
        const a = await stores.sessions.create(newSessionInput(), now, HOUR);
        const b = await stores.sessions.create(newSessionInput(), now, HOUR);
        expect(a.token).not.toBe(b.token);
        expect(a.session.id).not.toBe(b.session.id);
      });

      test("get of an unknown id is undefined", async () => {
        expect(await stores.sessions.get("0".repeat(64))).toBeUndefined();
      });

      test("rotate issues a new token, removes the old one, carries fields over and applies the patch", async () => {
        const { session: old } = await stores.sessions.create(newSessionInput(), now, HOUR);
        await stores.decisions.read(query({ sessionId: old.id, location: { lat: 48.1, lon: 11.6 } }));
        const rotated = await stores.sessions.rotate(
          old.id,
          { stepUpAt: now + 5, acr: "phrh" },
          now + 10,
          HOUR,
        );
        expect(rotated).toBeDefined();
        const { token, session } = rotated!;
        expect(session.id).toBe(sessionIdFromToken(token));
        expect(session.id).not.toBe(old.id);
        expect(await stores.sessions.get(old.id)).toBeUndefined();
        expect(session).toMatchObject({
          userId: "alice",
          acr: "phrh",
          amr: ["hwk", "user", "mfa"],
          authAt: 1_000,
          stepUpAt: now + 5,
          ip: "203.0.113.7",
          country: "DE",
          uaHash: "ua-hash-1",
          lastLat: 48.1,
          lastLon: 11.6,
          // when that location was recorded (the decision read), not the rotation's time
          lastLocatedAt: now,
          createdAt: old.createdAt,
        });
        expect(await stores.sessions.get(session.id)).toEqual(session);
        expect((await stores.sessions.listByUser("alice")).map((s) => s.id)).toEqual([session.id]);
      });

      test("rotation keeps the absolute deadline of the sign-in (step-ups never extend a session)", async () => {
        const { session: old } = await stores.sessions.create(newSessionInput(), now, HOUR);
        const rotated = await stores.sessions.rotate(
          old.id,
          { stepUpAt: now + 30 * MINUTE },
          now + 30 * MINUTE,
          HOUR,
        );
        const id = rotated!.session.id;
        const before = await stores.decisions.read(
          query({ sessionId: id, now: now + 59 * MINUTE, idleTimeoutMs: 10 * HOUR }),
        );
        expect(before.session?.id).toBe(id);
        const after = await stores.decisions.read(
          query({ sessionId: id, now: now + HOUR + 1, idleTimeoutMs: 10 * HOUR }),
        );
        expect(after.session).toBeUndefined();
      });

      test("rotate of a missing session is undefined, and only one of two rotations wins", async () => {
        expect(await stores.sessions.rotate("f".repeat(64), {}, now, HOUR)).toBeUndefined();
        const { session } = await stores.sessions.create(newSessionInput(), now, HOUR);
        const results = await Promise.all([
          stores.sessions.rotate(session.id, {}, now, HOUR),
          stores.sessions.rotate(session.id, {}, now, HOUR),
        ]);
        expect(results.filter((result) => result !== undefined)).toHaveLength(1);
      });

      test("update patches a live session; false for a missing one", async () => {
        const { session } = await stores.sessions.create(newSessionInput(), now, HOUR);
        expect(await stores.sessions.update(session.id, { stepUpAt: 42, amr: ["swk"], country: "FR" })).toBe(
          true,
        );
        expect(await stores.sessions.get(session.id)).toEqual({
          ...session,
          stepUpAt: 42,
          amr: ["swk"],
          country: "FR",
        });
        expect(await stores.sessions.update("e".repeat(64), { stepUpAt: 1 })).toBe(false);
        expect(await stores.sessions.get("e".repeat(64))).toBeUndefined();
      });

      test("delete removes the session once", async () => {
        const { session } = await stores.sessions.create(newSessionInput(), now, HOUR);
        expect(await stores.sessions.delete(session.id)).toBe(true);
        expect(await stores.sessions.delete(session.id)).toBe(false);
        expect(await stores.sessions.get(session.id)).toBeUndefined();
        expect(await stores.sessions.listByUser("alice")).toEqual([]);
      });

      test("listByUser and deleteByUser see only that user's sessions", async () => {
        const a = await stores.sessions.create(newSessionInput(), now, HOUR);
        const b = await stores.sessions.create(newSessionInput({ ip: "192.0.2.1" }), now, HOUR);
        const other = await stores.sessions.create(newSessionInput({ userId: "bob" }), now, HOUR);
        const ids = (await stores.sessions.listByUser("alice")).map((s) => s.id).sort();
        expect(ids).toEqual([a.session.id, b.session.id].sort());
        expect(await stores.sessions.deleteByUser("alice")).toBe(2);
        expect(await stores.sessions.listByUser("alice")).toEqual([]);
        expect(await stores.sessions.get(a.session.id)).toBeUndefined();
        expect(await stores.sessions.get(other.session.id)).toEqual(other.session);
        expect(await stores.sessions.deleteByUser("nobody")).toBe(0);
      });

      test("a session expires after its absolute lifetime and drops out of listByUser", async () => {
        const { session } = await stores.sessions.create(newSessionInput(), Date.now(), 60);
        const keeper = await stores.sessions.create(newSessionInput(), Date.now(), HOUR);
        await sleep(120);
        expect(await stores.sessions.get(session.id)).toBeUndefined();
        expect((await stores.sessions.listByUser("alice")).map((s) => s.id)).toEqual([keeper.session.id]);
        expect(await stores.sessions.update(session.id, { stepUpAt: 1 })).toBe(false);
      });
    });

    describe("per-user session cap and races", () => {
      test("a sign-in beyond the cap revokes the oldest sessions first", async () => {
        const capped = await makeStores({ maxSessionsPerUser: 3 });
        const created = [];
        for (let i = 0; i < 5; i++) {
          created.push((await capped.sessions.create(newSessionInput(), now + i * 1_000, HOUR)).session);
        }
        const other = await capped.sessions.create(newSessionInput({ userId: "bob" }), now, HOUR);
        const live = (await capped.sessions.listByUser("alice")).map((s) => s.id).sort();
        expect(live).toEqual(
          created
            .slice(2)
            .map((s) => s.id)
            .sort(),
        );
        expect(await capped.sessions.get(created[0]!.id)).toBeUndefined();
        expect(await capped.sessions.get(created[1]!.id)).toBeUndefined();
        expect(await capped.sessions.get(other.session.id)).toEqual(other.session);
      });

      test("ended sessions leave the index on the next sign-in and do not count against the cap", async () => {
        const capped = await makeStores({ maxSessionsPerUser: 2 });
        const keeper = await capped.sessions.create(newSessionInput(), Date.now(), HOUR);
        for (let i = 0; i < 3; i++) await capped.sessions.create(newSessionInput(), Date.now(), 40);
        await sleep(80);
        const fresh = await capped.sessions.create(newSessionInput(), Date.now(), HOUR);
        const ids = (await capped.sessions.listByUser("alice")).map((s) => s.id).sort();
        expect(ids).toEqual([keeper.session.id, fresh.session.id].sort());
      });

      test("a step-up racing with revoke-all never leaves the new session alive", async () => {
        for (let round = 0; round < 30; round++) {
          const { session } = await stores.sessions.create(newSessionInput(), now, HOUR);
          const race =
            round % 2 === 0
              ? Promise.all([
                  stores.sessions.rotate(session.id, { stepUpAt: now }, now, HOUR),
                  stores.sessions.deleteByUser("alice"),
                ])
              : Promise.all([
                  stores.sessions.deleteByUser("alice"),
                  stores.sessions.rotate(session.id, { stepUpAt: now }, now, HOUR),
                ]).then(([deleted, rotated]) => [rotated, deleted] as const);
          const [rotated] = await race;
          if (rotated !== undefined) expect(await stores.sessions.get(rotated.session.id)).toBeUndefined();
          expect(await stores.sessions.listByUser("alice")).toEqual([]);
          expect(
            (await stores.decisions.read(query({ sessionId: rotated?.session.id ?? session.id }))).session,
          ).toBeUndefined();
        }
      });

      test("two enrollments racing with one credential id: one wins, the other never overwrites it", async () => {
        for (let round = 0; round < 20; round++) {
          const id = `raced-${round}`;
          const mine = credential(id, "alice");
          const theirs = { ...credential(id, "mallory"), publicKey: "pk-of-the-attacker" };
          const [first, second] = await Promise.all([
            stores.credentials.add(mine),
            stores.credentials.add(theirs),
          ]);
          expect([first, second].filter((added) => added === true)).toHaveLength(1);
          const winner = first ? mine : theirs;
          const loser = first ? theirs : mine;
          expect(await stores.credentials.get(id)).toEqual(winner);
          expect((await stores.credentials.listByUser(loser.userId)).map((c) => c.id)).not.toContain(id);
          // Later adds of a registered id are refused too.
          expect(await stores.credentials.add(loser)).toBe(false);
          expect(await stores.credentials.get(id)).toEqual(winner);
        }
      });
    });

    describe("users", () => {
      test("put, get, update, list, count, delete", async () => {
        expect(await stores.users.count()).toBe(0);
        await stores.users.put(user("alice", { groups: ["admins", "staff"] }));
        await stores.users.put(user("bob", { status: "suspended", groups: [] }));
        expect(await stores.users.get("alice")).toEqual(user("alice", { groups: ["admins", "staff"] }));
        expect(await stores.users.get("bob")).toEqual(user("bob", { status: "suspended", groups: [] }));
        expect(await stores.users.count()).toBe(2);
        expect((await stores.users.list()).map((u) => u.id).sort()).toEqual(["alice", "bob"]);

        expect(await stores.users.update("bob", { status: "active", groups: ["ops"] })).toBe(true);
        expect(await stores.users.get("bob")).toEqual(user("bob", { groups: ["ops"] }));
        expect(await stores.users.update("carol", { status: "active" })).toBe(false);
        expect(await stores.users.get("carol")).toBeUndefined();

        expect(await stores.users.delete("alice")).toBe(true);
        expect(await stores.users.delete("alice")).toBe(false);
        expect(await stores.users.get("alice")).toBeUndefined();
        expect(await stores.users.count()).toBe(1);
      });

      test("put replaces the whole user", async () => {
        await stores.users.put(user("alice", { displayName: "Old", groups: ["a", "b"] }));
        await stores.users.put(user("alice", { displayName: "New", groups: [] }));
        expect(await stores.users.get("alice")).toEqual(user("alice", { displayName: "New", groups: [] }));
        expect(await stores.users.count()).toBe(1);
      });
    });

    describe("credentials", () => {
      test("add, get, listByUser, recordUse, delete", async () => {
        await stores.credentials.add(credential("cred-1", "alice", 1_000));
        await stores.credentials.add(credential("cred-2", "alice", 2_000));
        await stores.credentials.add(credential("cred-3", "bob"));
        expect(await stores.credentials.get("cred-1")).toEqual(credential("cred-1", "alice", 1_000));
        expect((await stores.credentials.listByUser("alice")).map((c) => c.id)).toEqual(["cred-1", "cred-2"]);
        expect(await stores.credentials.listByUser("nobody")).toEqual([]);

        const use = { counter: 7, usedAt: 9_000, deviceType: "multiDevice", backedUp: true } as const;
        expect(await stores.credentials.recordUse("cred-1", use)).toBe(true);
        expect(await stores.credentials.get("cred-1")).toEqual({
          ...credential("cred-1", "alice", 1_000),
          counter: 7,
          lastUsedAt: 9_000,
        });
        // The backup state follows what the latest assertion reports, whichever way it changed.
        const changed = { counter: 8, usedAt: 9_500, deviceType: "singleDevice", backedUp: false } as const;
        expect(await stores.credentials.recordUse("cred-2", changed)).toBe(true);
        expect(await stores.credentials.get("cred-2")).toMatchObject({
          deviceType: "singleDevice",
          backedUp: false,
        });
        expect(await stores.credentials.recordUse("missing", use)).toBe(false);
        expect(await stores.credentials.get("missing")).toBeUndefined();

        expect(await stores.credentials.delete("cred-1")).toBe(true);
        expect(await stores.credentials.delete("cred-1")).toBe(false);
        expect((await stores.credentials.listByUser("alice")).map((c) => c.id)).toEqual(["cred-2"]);
      });

      test("single-device, not backed up credentials round-trip", async () => {
        const plain = {
          ...credential("cred-x", "alice"),
          deviceType: "singleDevice",
          backedUp: false,
          transports: [],
        };
        await stores.credentials.add(plain as StoredCredential);
        expect(await stores.credentials.get("cred-x")).toEqual(plain as StoredCredential);
      });
    });

    describe("one-time values", () => {
      test("take returns the value once", async () => {
        await stores.oneTime.put("challenge-1", "abc", MINUTE);
        expect(await stores.oneTime.take("challenge-1")).toBe("abc");
        expect(await stores.oneTime.take("challenge-1")).toBeUndefined();
        expect(await stores.oneTime.take("never-put")).toBeUndefined();
      });

      test("peek reads without consuming; a take afterwards still gets the value once", async () => {
        await stores.oneTime.put("link-1", "record", MINUTE);
        expect(await stores.oneTime.peek("link-1")).toBe("record");
        expect(await stores.oneTime.peek("link-1")).toBe("record");
        expect(await stores.oneTime.take("link-1")).toBe("record");
        expect(await stores.oneTime.peek("link-1")).toBeUndefined();
        expect(await stores.oneTime.peek("never-put")).toBeUndefined();
      });

      test("values expire", async () => {
        await stores.oneTime.put("short", "x", 50);
        await sleep(100);
        expect(await stores.oneTime.take("short")).toBeUndefined();
      });
    });

    describe("counters", () => {
      test("add returns the running total, get reads it, delete clears it", async () => {
        expect(await stores.counters.get("fails:alice")).toBe(0);
        expect(await stores.counters.add("fails:alice", 1, MINUTE)).toBe(1);
        expect(await stores.counters.add("fails:alice", 2, MINUTE)).toBe(3);
        expect(await stores.counters.get("fails:alice")).toBe(3);
        await stores.counters.delete("fails:alice");
        expect(await stores.counters.get("fails:alice")).toBe(0);
      });

      test("counters expire, and every add resets the expiry", async () => {
        // Wide margins: a busy machine may oversleep by a hundred milliseconds or more.
        await stores.counters.add("short", 1, 250);
        await sleep(30);
        await stores.counters.add("short", 1, 800);
        await sleep(400); // past the first expiry, well before the second
        expect(await stores.counters.get("short")).toBe(2);
        await sleep(500);
        expect(await stores.counters.get("short")).toBe(0);
      });
    });

    describe("replay guard", () => {
      test("the first claim wins, later ones are replays until the TTL passes", async () => {
        expect(await stores.replay.claim("jti-1", 80)).toBe(true);
        expect(await stores.replay.claim("jti-1", 80)).toBe(false);
        expect(await stores.replay.claim("jti-2", 80)).toBe(true);
        await sleep(130);
        expect(await stores.replay.claim("jti-1", 80)).toBe(true);
      });
    });

    describe("decision reads", () => {
      test("reads session and user in one call and returns the session as it was before", async () => {
        await stores.users.put(user("alice", { groups: ["admins"] }));
        const { session } = await stores.sessions.create(newSessionInput(), now, 12 * HOUR);

        const first = await stores.decisions.read(
          query({ sessionId: session.id, now: now + 1_000, location: { lat: 52.5, lon: 13.4 } }),
        );
        expect(first.session).toEqual(session);
        expect(first.session?.lastLocatedAt).toBe(0);
        expect(first.user).toEqual(user("alice", { groups: ["admins"] }));

        const second = await stores.decisions.read(query({ sessionId: session.id, now: now + 2_000 }));
        expect(second.session).toEqual({
          ...session,
          lastSeenAt: now + 1_000,
          lastLat: 52.5,
          lastLon: 13.4,
          lastLocatedAt: now + 1_000,
        });

        // Without a location the last known one is kept, and so is the time it was recorded:
        // only lastSeenAt moves.
        const third = await stores.decisions.read(query({ sessionId: session.id, now: now + 3_000 }));
        expect(third.session).toMatchObject({
          lastSeenAt: now + 2_000,
          lastLat: 52.5,
          lastLon: 13.4,
          lastLocatedAt: now + 1_000,
        });
        expect(await stores.sessions.get(session.id)).toMatchObject({
          lastSeenAt: now + 3_000,
          lastLocatedAt: now + 1_000,
        });

        // A located request records the place and its time together.
        await stores.decisions.read(
          query({ sessionId: session.id, now: now + 4_000, location: { lat: 35.7, lon: 139.7 } }),
        );
        expect(await stores.sessions.get(session.id)).toMatchObject({
          lastSeenAt: now + 4_000,
          lastLat: 35.7,
          lastLon: 139.7,
          lastLocatedAt: now + 4_000,
        });
      });

      test("a session whose user is gone reads with user undefined", async () => {
        const { session } = await stores.sessions.create(newSessionInput({ userId: "ghost" }), now, HOUR);
        const state = await stores.decisions.read(query({ sessionId: session.id }));
        expect(state.session?.id).toBe(session.id);
        expect(state.user).toBeUndefined();
      });

      test("an unknown session reads as undefined and is not counted", async () => {
        const state = await stores.decisions.read(
          query({ sessionId: "a".repeat(64), clientKey: "192.0.2.50" }),
        );
        expect(state).toEqual({
          session: undefined,
          user: undefined,
          rate: { session: 0, user: 0, ip: 1 },
          ipReputation: 0,
        });
      });

      test("JWT path: a user id without a session reads the user and counts the user", async () => {
        await stores.users.put(user("svc", { groups: ["robots"] }));
        const state = await stores.decisions.read(query({ userId: "svc", clientKey: "192.0.2.51" }));
        expect(state.session).toBeUndefined();
        expect(state.user).toEqual(user("svc", { groups: ["robots"] }));
        expect(state.rate).toEqual({ session: 0, user: 1, ip: 1 });
      });

      test("rate counts grow per scope and slide across windows", async () => {
        await stores.users.put(user("alice"));
        const base = Math.floor(now / MINUTE) * MINUTE;
        const { session } = await stores.sessions.create(newSessionInput(), base, 12 * HOUR);
        const at = (offset: number, ip = "192.0.2.60") =>
          stores.decisions.read(query({ sessionId: session.id, clientKey: ip, now: base + offset }));

        expect((await at(100)).rate).toEqual({ session: 1, user: 1, ip: 1 });
        expect((await at(200)).rate).toEqual({ session: 2, user: 2, ip: 2 });
        expect((await at(300, "192.0.2.61")).rate).toEqual({ session: 3, user: 3, ip: 1 });
        // A quarter into the next window: 1 + 3 × 0.75 for session/user, 1 + 2 × 0.75 for the IP.
        expect((await at(MINUTE + MINUTE / 4)).rate).toEqual({ session: 3.25, user: 3.25, ip: 2.5 });
        // Two windows on, the first has slid out entirely: 1 + 1 × 0.5.
        expect((await at(2 * MINUTE + MINUTE / 2)).rate).toEqual({ session: 1.5, user: 1.5, ip: 1.5 });
      });

      test("no rate window means nothing is counted", async () => {
        const state = await stores.decisions.read(
          query({ rateWindowMs: undefined, clientKey: "192.0.2.70" }),
        );
        expect(state.rate).toEqual({ session: 0, user: 0, ip: 0 });
        const counted = await stores.decisions.read(query({ clientKey: "192.0.2.70" }));
        expect(counted.rate.ip).toBe(1);
      });

      test("reads the dynamic IP reputation counter", async () => {
        await stores.counters.add(ipReputationKey("192.0.2.80"), 20, MINUTE);
        await stores.counters.add(ipReputationKey("192.0.2.80"), 20, MINUTE);
        expect((await stores.decisions.read(query({ clientKey: "192.0.2.80" }))).ipReputation).toBe(40);
        expect((await stores.decisions.read(query({ clientKey: "192.0.2.81" }))).ipReputation).toBe(0);
      });

      test("a session idle for longer than the idle time-out is gone", async () => {
        const { session } = await stores.sessions.create(newSessionInput(), now, 12 * HOUR);
        const idle = 15 * MINUTE;
        expect(
          (
            await stores.decisions.read(
              query({ sessionId: session.id, idleTimeoutMs: idle, now: now + idle }),
            )
          ).session,
        ).toBeDefined();
        const late = now + 2 * idle + 1;
        const state = await stores.decisions.read(
          query({ sessionId: session.id, idleTimeoutMs: idle, now: late }),
        );
        expect(state.session).toBeUndefined();
        expect(await stores.sessions.get(session.id)).toBeUndefined();
        expect(await stores.sessions.listByUser("alice")).toEqual([]);
      });

      test("a session past its absolute lifetime is gone even when active", async () => {
        const { session } = await stores.sessions.create(newSessionInput(), now, HOUR);
        for (let t = 10 * MINUTE; t < HOUR; t += 10 * MINUTE) {
          expect(
            (await stores.decisions.read(query({ sessionId: session.id, now: now + t }))).session,
          ).toBeDefined();
        }
        expect(
          (await stores.decisions.read(query({ sessionId: session.id, now: now + HOUR }))).session,
        ).toBeUndefined();
      });

      test("a read pushes the session's expiry to the idle time-out", async () => {
        const t0 = Date.now();
        const { session } = await stores.sessions.create(newSessionInput(), t0, HOUR);
        await stores.decisions.read(query({ sessionId: session.id, now: t0, idleTimeoutMs: 80 }));
        await sleep(150);
        expect(await stores.sessions.get(session.id)).toBeUndefined();
      });
    });
  });
}
