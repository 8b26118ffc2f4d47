/**
 * With the real geoip-lite database: addresses of well-known networks whose country is stable
 * (checked against geoip-lite 2.0.3's data), then impossible travel end to end on real lookups.
 */
import { describe, expect, test } from "bun:test";
import { lookupGeo } from "../../src/adapters/geo/geoip.ts";
import { assessRisk } from "../../src/risk/engine.ts";
import { context, HOUR, input, NOW, session } from "./fixtures.ts";

describe("lookupGeo (real geoip-lite data)", () => {
  test.each([
    ["8.8.8.8", "US"], // Google Public DNS
    ["2001:4860:4860::8888", "US"], // Google Public DNS, IPv6
    ["::ffff:8.8.8.8", "US"], // mapped IPv4 is IPv4
    ["2a00:1450:4001::1", "DE"], // Google Frankfurt
    ["81.169.145.1", "DE"], // Strato, Berlin
    ["133.242.0.1", "JP"], // Sakura Internet
    ["13.54.0.1", "AU"], // AWS ap-southeast-2, Sydney
    ["177.71.128.1", "BR"], // AWS sa-east-1, São Paulo
  ])("%s is in %s", (ip, country) => {
    const point = lookupGeo(ip);
    expect(point?.country).toBe(country);
    expect(Number.isFinite(point?.lat)).toBe(true);
    expect(Number.isFinite(point?.lon)).toBe(true);
  });

  test.each([
    "10.0.0.1",
    "192.168.1.10",
    "127.0.0.1",
    "::1",
    "fe80::1",
    "fd00::1",
    "100.64.1.1",
    "192.0.2.1",
    "not-an-ip",
    "",
  ])("%p is no evidence", (ip) => {
    expect(lookupGeo(ip)).toBeUndefined();
  });
});

describe("impossible travel on real locations", () => {
  const frankfurt = lookupGeo("2a00:1450:4001::1")!;
  const sydney = lookupGeo("13.54.0.1")!;
  const baseline = (locatedAt: number) =>
    session({
      country: frankfurt.country,
      lastLat: frankfurt.lat,
      lastLon: frankfurt.lon,
      lastLocatedAt: locatedAt,
      lastSeenAt: locatedAt,
    });

  test("Frankfurt → Sydney in 1 hour is flagged", () => {
    const risk = assessRisk(
      input({ clientIp: "13.54.0.1", location: sydney, session: baseline(NOW - HOUR) }),
      context(),
    );
    expect(risk.reasons.map((r) => r.signal)).toEqual(["geo_country", "impossible_travel"]);
    expect(risk.score).toBe(70); // defaults: country 40 + impossible travel 30
  });

  test("Frankfurt → Sydney in 30 hours is a trip: only the country changed", () => {
    const risk = assessRisk(
      input({ clientIp: "13.54.0.1", location: sydney, session: baseline(NOW - 30 * HOUR) }),
      context(),
    );
    expect(risk.reasons.map((r) => r.signal)).toEqual(["geo_country"]);
  });

  test("a private address on the way is no evidence", () => {
    const risk = assessRisk(
      input({ clientIp: "10.1.2.3", location: lookupGeo("10.1.2.3"), session: baseline(NOW - 1000) }),
      context(),
    );
    expect(risk.reasons).toEqual([]);
  });
});
