/**
 * Moves data from the key layout before hash tags (`user:<id>`, `cred:<id>`, `user-creds:<id>`,
 * `session:<id>`, `user-sessions:<id>`, `rate:<window>`) to the current one (keys.ts). Users and
 * passkeys are copied over; sessions, rate windows and reputation points are dropped (their
 * cookies carry no user tag, so every user signs in again once). Idempotent: a second run finds
 * nothing left to move. Runs against one Redis (standalone or Sentinel master): the old layout
 * never ran on Cluster.
 */
import type Redis from "ioredis";
import type { Stores } from "../../ports.ts";
import { credentialFromFields, userFromFields } from "./codec.ts";

export interface MigrationReport {
  users: number;
  passkeys: number;
  /** Old keys dropped: sessions, their indexes, rate windows, reputation counters. */
  dropped: number;
}

/** The old layout's keys, as keys.ts built them before hash tags. */
const legacy = (prefix: string) => ({
  user: (id: string) => `${prefix}user:${id}`,
  userCredentials: (id: string) => `${prefix}user-creds:${id}`,
  credential: (id: string) => `${prefix}cred:${id}`,
  users: `${prefix}users`,
  /** SCAN patterns of what is dropped, not moved. */
  dropped: ["session:", "user-sessions:", "rate:", "ctr:iprep:"].map(
    (part) => `${globEscape(prefix + part)}*`,
  ),
});

const globEscape = (text: string) => text.replace(/[*?[\]\\]/g, "\\$&");

/** Whether any user still sits in the old layout (a cheap check for a start-up warning). */
export async function legacyKeysPresent(client: Redis, prefix: string): Promise<boolean> {
  const old = legacy(prefix);
  const sample = await client.srandmember(old.users, 20);
  if (sample.length === 0) return false;
  return (await client.exists(...sample.map(old.user))) > 0;
}

export async function migrateLegacyKeys(
  client: Redis,
  prefix: string,
  stores: Stores,
): Promise<MigrationReport> {
  const old = legacy(prefix);
  const report: MigrationReport = { users: 0, passkeys: 0, dropped: 0 };
  for (const userId of await client.smembers(old.users)) {
    const fields = await client.hgetall(old.user(userId));
    const user = userFromFields(userId, fields);
    // A user already in the new layout keeps what it has there (changed since the upgrade).
    if (user !== undefined && (await stores.users.get(userId)) === undefined) {
      await stores.users.put(user);
      report.users++;
    }
    for (const credentialId of await client.smembers(old.userCredentials(userId))) {
      const credential = credentialFromFields(
        credentialId,
        await client.hgetall(old.credential(credentialId)),
      );
      if (credential !== undefined && (await stores.credentials.add(credential))) report.passkeys++;
      await client.del(old.credential(credentialId));
    }
    await client.del(old.userCredentials(userId), old.user(userId));
  }
  for (const pattern of old.dropped) {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) report.dropped += await client.unlink(...keys);
    } while (cursor !== "0");
  }
  return report;
}
