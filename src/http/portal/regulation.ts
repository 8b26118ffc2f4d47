/**
 * Authelia-style regulation of failed passkey ceremonies: failures are counted per user and per
 * client network (client_prefix: an IPv6 client can rotate inside its /64) over `find_time`; at
 * `max_retries` that user or network is banned for `ban_time`. A failed step-up also adds points
 * to the network's dynamic reputation, which the risk engine reads on /auth.
 * Ceremony starts (each stores a challenge) are limited too: `max_starts` per client network per
 * `start_window`, and `max_challenges` across all clients, so no number of clients or networks
 * can fill the store with challenges.
 */
import type { Config } from "../../config/load.ts";
import { type CounterStore, ipReputationKey } from "../../ports.ts";

export type RegulationConfig = Pick<Config, "regulation" | "risk" | "webauthn">;

const failKey = (kind: "user" | "ip", id: string) => `regulation:fail:${kind}:${id}`;
const banKey = (kind: "user" | "ip", id: string) => `regulation:ban:${kind}:${id}`;
/** One counter per IP per fixed start window (the window's index in the key). */
const startKey = (ip: string, window: number) => `regulation:start:ip:${ip}:${window}`;

/**
 * Challenges started in one fixed window as long as a challenge lives (webauthn.challenge_ttl). A
 * challenge alive now was started in this window or the previous one, so the two counts together
 * bound the challenges stored at once.
 */
const challengesKey = (window: number) => `regulation:challenges:${window}`;
/** Set by the first refusal of a challenge window: the operator is told once per window. */
const challengesFullKey = (window: number) => `regulation:challenges-full:${window}`;

/** A refused ceremony start. */
export interface StartLimited {
  /** Seconds until the window that refused ends (at least 1). */
  retryAfterSec: number;
  /** true for the first refusal of this window (log it once, not once per flooded request). */
  first: boolean;
}

export interface Subject {
  userId: string | undefined;
  /** The client key (net/client-prefix.ts: an IPv4 address or an IPv6 /64 by default), not the raw address. */
  ip: string;
}

export class Regulation {
  constructor(
    private readonly counters: CounterStore,
    private readonly config: RegulationConfig,
  ) {}

  /** Seconds until the ban of this user or IP ends; undefined when neither is banned. */
  async bannedFor(subject: Subject, now: number): Promise<number | undefined> {
    const keys = [banKey("ip", subject.ip)];
    if (subject.userId !== undefined) keys.push(banKey("user", subject.userId));
    const nowSec = Math.floor(now / 1000);
    const maxSec = Math.ceil(this.config.regulation.ban_time / 1000);
    let longest: number | undefined;
    for (const key of keys) {
      const until = await this.counters.get(key);
      if (until > nowSec) longest = Math.max(longest ?? 0, Math.min(until - nowSec, maxSec));
    }
    return longest;
  }

  /**
   * Counts a ceremony start from `ip` in the current fixed window of `start_window`; undefined
   * while the window holds at most `max_starts`, else how long until the window ends. Refused
   * starts are counted too (one key per IP per window either way, expiring with the window).
   */
  async countStart(ip: string, now: number): Promise<StartLimited | undefined> {
    const { max_starts, start_window } = this.config.regulation;
    const window = Math.floor(now / start_window);
    const starts = await this.counters.add(startKey(ip, window), 1, start_window);
    if (starts <= max_starts) return undefined;
    const endsInMs = (window + 1) * start_window - now;
    return { retryAfterSec: Math.max(1, Math.ceil(endsInMs / 1000)), first: starts === max_starts + 1 };
  }

  /**
   * Reserves room for one more stored challenge, before anything else is written for the start;
   * undefined when there is room, else how long until the older window's starts no longer count.
   * Give the room back with releaseChallenge when the start is refused later on.
   */
  async reserveChallenge(now: number): Promise<StartLimited | undefined> {
    const ttl = this.config.webauthn.challenge_ttl;
    const window = Math.floor(now / ttl);
    const current = await this.counters.add(challengesKey(window), 1, 2 * ttl);
    const previous = await this.counters.get(challengesKey(window - 1));
    const max = this.config.regulation.max_challenges;
    if (current + previous <= max) return undefined;
    // Refused starts give their room back, so the count stays that of stored challenges and the
    // store recovers as soon as a flood stops.
    await this.releaseChallenge(now);
    const first = (await this.counters.add(challengesFullKey(window), 1, ttl)) === 1;
    return { retryAfterSec: Math.max(1, Math.ceil(((window + 1) * ttl - now) / 1000)), first };
  }

  async releaseChallenge(now: number): Promise<void> {
    const ttl = this.config.webauthn.challenge_ttl;
    await this.counters.add(challengesKey(Math.floor(now / ttl)), -1, 2 * ttl);
  }

  /** Counts a failure; bans the user/IP that reached max_retries. Returns the ban length when one began. */
  async recordFailure(
    subject: Subject,
    now: number,
    options: { stepUp: boolean },
  ): Promise<number | undefined> {
    const { max_retries, find_time, ban_time } = this.config.regulation;
    const subjects: Array<["user" | "ip", string]> = [["ip", subject.ip]];
    if (subject.userId !== undefined) subjects.push(["user", subject.userId]);
    let banned: number | undefined;
    for (const [kind, id] of subjects) {
      const failures = await this.counters.add(failKey(kind, id), 1, find_time);
      if (failures >= max_retries) {
        await this.counters.delete(failKey(kind, id));
        await this.counters.delete(banKey(kind, id));
        await this.counters.add(banKey(kind, id), Math.floor((now + ban_time) / 1000), ban_time);
        banned = Math.ceil(ban_time / 1000);
      }
    }
    if (options.stepUp) {
      const { failed_stepup_points, ttl } = this.config.risk.dynamic_ip;
      if (failed_stepup_points > 0)
        await this.counters.add(ipReputationKey(subject.ip), failed_stepup_points, ttl);
    }
    return banned;
  }

  /** A success clears the user's failure count (the IP's stays: it may be shared with an attacker). */
  async recordSuccess(subject: Subject): Promise<void> {
    if (subject.userId !== undefined) await this.counters.delete(failKey("user", subject.userId));
  }
}
