import { describe, expect, test } from "bun:test";
import { geoSignal } from "../../src/risk/signals/geo.ts";
import { distanceKm } from "../../src/risk/signals/geo-distance.ts";
import { ipReputationSignal } from "../../src/risk/signals/ip-reputation.ts";
import { rateSignal, retryAfter } from "../../src/risk/signals/rate.ts";
import { userAgentSignal } from "../../src/risk/signals/user-agent.ts";
import type { SignalOutcome } from "../../src/risk/types.ts";
import {
  BASEL,
  BERLIN,
  context,
  defaultRiskConfig,
  FRANKFURT,
  HOUR,
  input,
  list,
  NOW,
  OFFENBACH,
  SYDNEY,
  session,
} from "./fixtures.ts";

const summary = (outcome: SignalOutcome) => ({
  signals: outcome.reasons.map((r) => `${r.signal}:${r.points}`),
  block: outcome.block?.signal,
  rateLimitedForSec: outcome.rateLimitedForSec,
});

describe("ip-reputation signal", () => {
  const lists = [
    list("tor", ["185.220.101.0/24", "2a0b:f4c2::/40"], "score", 40),
    list("drop", ["1.10.16.0/20"], "deny"),
    list("scanners", ["185.220.101.7"], "score", 25),
  ];
  const config = defaultRiskConfig(); // dynamic_ip.max_points 60

  test.each([
    ["8.8.8.8", 0, { signals: [], block: undefined }],
    ["185.220.101.1", 0, { signals: ["ip_list:40"], block: undefined }],
    ["::ffff:185.220.101.1", 0, { signals: ["ip_list:40"], block: undefined }],
    ["2a0b:f4c2::99", 0, { signals: ["ip_list:40"], block: undefined }],
    ["185.220.101.7", 0, { signals: ["ip_list:40", "ip_list:25"], block: undefined }],
    ["1.10.20.30", 0, { signals: [], block: "ip_list" }],
    ["8.8.8.8", 20, { signals: ["ip_reputation:20"], block: undefined }],
    ["8.8.8.8", 500, { signals: ["ip_reputation:60"], block: undefined }],
    ["8.8.8.8", -5, { signals: [], block: undefined }],
    ["8.8.8.8", Number.NaN, { signals: [], block: undefined }],
    ["1.10.16.1", 40, { signals: ["ip_reputation:40"], block: "ip_list" }],
  ])("%s with dynamic %p", (clientIp, ipReputation, expected) => {
    const outcome = ipReputationSignal(input({ clientIp, ipReputation }), { config, lists });
    expect(summary(outcome)).toMatchObject(expected);
  });

  test("details name the list, never the address", () => {
    const outcome = ipReputationSignal(input({ clientIp: "1.10.16.1" }), { config, lists });
    expect(outcome.block?.detail).toBe('client address is on deny list "drop"');
    expect(JSON.stringify(outcome)).not.toContain("1.10.16.1");
  });

  test("a zero-weight score list is no evidence", () => {
    const outcome = ipReputationSignal(
      input({ clientIp: "9.9.9.9" }),
      context({ lists: [list("x", ["9.9.9.9"], "score", 0)] }),
    );
    expect(outcome.reasons).toEqual([]);
  });
});

describe("geo signal", () => {
  // The table checks the signal's mechanics, so its points are its own (not the defaults).
  const COUNTRY = 35;
  const TRAVEL = 45;
  const geoConfig = () => {
    const config = defaultRiskConfig();
    config.geo.country_mismatch_points = COUNTRY;
    config.geo.impossible_travel_points = TRAVEL;
    return config;
  };
  const country = `geo_country:${COUNTRY}`;
  const travel = `impossible_travel:${TRAVEL}`;

  test.each([
    ["same place, a minute later", { location: FRANKFURT }, []],
    ["next town, a second later (geoip noise)", { location: OFFENBACH, lastLocatedAt: NOW - 1000 }, []],
    ["Frankfurt → Berlin in 1 h (≈420 km/h)", { location: BERLIN, lastLocatedAt: NOW - HOUR }, []],
    ["Frankfurt → Berlin in 10 min", { location: BERLIN, lastLocatedAt: NOW - 10 * 60_000 }, [travel]],
    ["Frankfurt → Sydney in 1 h", { location: SYDNEY, lastLocatedAt: NOW - HOUR }, [country, travel]],
    ["Frankfurt → Sydney in 30 h", { location: SYDNEY, lastLocatedAt: NOW - 30 * HOUR }, [country]],
    ["Frankfurt → Sydney at the same instant", { location: SYDNEY, lastLocatedAt: NOW }, [country, travel]],
    [
      "replica clock skew: located 'in the future'",
      { location: BASEL, lastLocatedAt: NOW + 500 },
      [country, travel],
    ],
    [
      "Frankfurt → Basel in 2 h: border, not travel",
      { location: BASEL, lastLocatedAt: NOW - 2 * HOUR },
      [country],
    ],
    [
      "Frankfurt 10 h ago, an unlocated request a minute ago, now Berlin: time since the location counts",
      { location: BERLIN, lastLocatedAt: NOW - 10 * HOUR, lastSeenAt: NOW - 60_000 },
      [],
    ],
    [
      "Frankfurt 20 h ago, an unlocated request a minute ago, now Sydney: a trip, only the country",
      { location: SYDNEY, lastLocatedAt: NOW - 20 * HOUR, lastSeenAt: NOW - 60_000 },
      [country],
    ],
    [
      "located 10 min ago, seen long before that: still the time since the location",
      { location: BERLIN, lastLocatedAt: NOW - 10 * 60_000, lastSeenAt: NOW - 10 * HOUR },
      [travel],
    ],
    ["unknown request location", { location: undefined }, []],
    ["no last location", { location: SYDNEY, lastLat: Number.NaN, lastLon: Number.NaN }, [country]],
    ["never located (lastLocatedAt 0)", { location: SYDNEY, lastLocatedAt: 0 }, [country]],
    [
      "never located, though seen a second ago",
      { location: SYDNEY, lastLocatedAt: 0, lastSeenAt: NOW - 1000 },
      [country],
    ],
    [
      "country without coordinates",
      { location: { country: "AU", lat: Number.NaN, lon: Number.NaN } },
      [country],
    ],
    ["no baseline country", { location: SYDNEY, country: "", lastLocatedAt: NOW - 30 * HOUR }, []],
    ["lower-case country codes", { location: { ...FRANKFURT, country: "de" }, country: "De" }, []],
  ] as const)("%s", (_name, { location, ...sessionOverrides }, expected) => {
    const outcome = geoSignal(
      input({ location, session: session(sessionOverrides) }),
      context({ config: geoConfig() }),
    );
    expect(summary(outcome).signals).toEqual([...expected]);
  });

  test("default points: another country 40 (the default stepup_at), impossible travel 30", () => {
    const outcome = geoSignal(
      input({ location: SYDNEY, session: session({ lastLocatedAt: NOW - HOUR }) }),
      context(),
    );
    expect(summary(outcome).signals).toEqual(["geo_country:40", "impossible_travel:30"]);
  });

  test("no session: no baseline, no evidence", () => {
    expect(geoSignal(input({ session: undefined, location: SYDNEY }), context()).reasons).toEqual([]);
  });

  test("disabled geo, or zero points, is silent", () => {
    const config = geoConfig();
    config.geo.enabled = false;
    const far = input({ location: SYDNEY, session: session({ lastLocatedAt: NOW - HOUR }) });
    expect(geoSignal(far, context({ config })).reasons).toEqual([]);
    const noCountry = geoConfig();
    noCountry.geo.country_mismatch_points = 0;
    expect(summary(geoSignal(far, context({ config: noCountry }))).signals).toEqual([travel]);
    const noTravel = geoConfig();
    noTravel.geo.impossible_travel_points = 0;
    expect(summary(geoSignal(far, context({ config: noTravel }))).signals).toEqual([country]);
  });

  test("speed and distance thresholds come from the config", () => {
    const config = geoConfig();
    config.geo.max_speed_kmh = 300;
    const berlinInAnHour = input({ location: BERLIN, session: session({ lastLocatedAt: NOW - HOUR }) });
    expect(summary(geoSignal(berlinInAnHour, context({ config }))).signals).toEqual([travel]);
    config.geo.min_travel_km = 500;
    expect(geoSignal(berlinInAnHour, context({ config })).reasons).toEqual([]);
  });

  test("the detail tells distance, time since the last location and limit", () => {
    const outcome = geoSignal(
      input({ location: SYDNEY, session: session({ lastLocatedAt: NOW - HOUR, lastSeenAt: NOW - 60_000 }) }),
      context(),
    );
    expect(outcome.reasons.map((r) => r.detail)).toEqual([
      "request from AU, session established in DE",
      "16481 km in 1.0 h (over 1000 km/h)",
    ]);
  });

  test("haversine distances", () => {
    expect(distanceKm(FRANKFURT.lat, FRANKFURT.lon, FRANKFURT.lat, FRANKFURT.lon)).toBe(0);
    expect(distanceKm(FRANKFURT.lat, FRANKFURT.lon, BERLIN.lat, BERLIN.lon)).toBeCloseTo(424, -1);
    expect(distanceKm(FRANKFURT.lat, FRANKFURT.lon, SYDNEY.lat, SYDNEY.lon)).toBeCloseTo(16480, -2);
    // Antipodes: half the circumference, no NaN from rounding.
    expect(distanceKm(0, 0, 0, 180)).toBeCloseTo(Math.PI * 6371.0088, 3);
    expect(distanceKm(90, 0, -90, 0)).toBeCloseTo(Math.PI * 6371.0088, 3);
  });
});

describe("rate signal", () => {
  // Defaults: window 60 s; soft 300/600/600; hard 1200/2400/2400; soft_points 30.
  test.each([
    ["quiet", { session: 5, user: 5, ip: 5 }, { signals: [], rateLimitedForSec: undefined }],
    [
      "at the soft limit",
      { session: 300, user: 600, ip: 600 },
      { signals: [], rateLimitedForSec: undefined },
    ],
    [
      "session over soft",
      { session: 301, user: 301, ip: 301 },
      { signals: ["rate:30"], rateLimitedForSec: undefined },
    ],
    [
      "all over soft: points once",
      { session: 700, user: 700, ip: 700 },
      { signals: ["rate:30"], rateLimitedForSec: undefined },
    ],
    [
      "at the hard limit",
      { session: 1200, user: 1200, ip: 1200 },
      { signals: ["rate:30"], rateLimitedForSec: undefined },
    ],
    [
      "just over hard",
      { session: 1201, user: 1201, ip: 1201 },
      { signals: ["rate:30"], rateLimitedForSec: 1 },
    ],
    [
      "double the hard limit",
      { session: 2400, user: 2400, ip: 2400 },
      { signals: ["rate:30"], rateLimitedForSec: 30 },
    ],
    [
      "IP flood without a session",
      { session: 0, user: 0, ip: 24_000 },
      { signals: ["rate:30"], rateLimitedForSec: 54 },
    ],
  ] as const)("%s", (_name, rate, expected) => {
    expect(summary(rateSignal(input({ rate }), context()))).toMatchObject(expected);
  });

  test("the detail names the counters over the limit", () => {
    const outcome = rateSignal(input({ rate: { session: 301, user: 10, ip: 650 } }), context());
    expect(outcome.reasons[0]?.detail).toBe("over the soft rate limit per 60 s: session 301/300, ip 650/600");
  });

  test("soft_points 0 still rate-limits", () => {
    const config = defaultRiskConfig();
    config.rate.soft_points = 0;
    const outcome = rateSignal(input({ rate: { session: 5000, user: 5000, ip: 5000 } }), context({ config }));
    expect(summary(outcome)).toEqual({ signals: [], block: undefined, rateLimitedForSec: 46 });
  });

  test("Retry-After is the share of the window that must slide out, within 1 s .. window", () => {
    expect(retryAfter(101, 100, 60)).toBe(1);
    expect(retryAfter(200, 100, 60)).toBe(30);
    expect(retryAfter(1e9, 100, 60)).toBe(60);
  });
});

describe("user-agent signal", () => {
  test.each([
    ["same client", "ua-baseline", "ua-baseline", []],
    ["other client", "ua-baseline", "ua-other", ["user_agent:20"]],
    ["user agent dropped", "ua-baseline", "", ["user_agent:20"]],
    ["no baseline", "", "ua-other", []],
  ])("%s", (_name, baseline, current, expected) => {
    const outcome = userAgentSignal(
      input({ userAgentHash: current, session: session({ uaHash: baseline }) }),
      context(),
    );
    expect(summary(outcome).signals).toEqual(expected);
  });

  test("no session, no evidence", () => {
    expect(userAgentSignal(input({ session: undefined, userAgentHash: "x" }), context()).reasons).toEqual([]);
  });
});
