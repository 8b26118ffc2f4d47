/**
 * Country and approximate location of a client address, from geoip-lite's bundled GeoLite data.
 * Importing this module loads the whole database synchronously (~100 MB, once per process), so
 * only the composition (compose.ts) and the CLI import it; the pure risk core receives the GeoPoint instead.
 */
import geoip from "geoip-lite";
import { formatIp, isPrivateOrReserved, parseIp } from "../../net/ip.ts";
import type { GeoPoint } from "../../risk/types.ts";

/**
 * undefined for private, reserved, malformed or unknown addresses: no evidence either way.
 * A country without coordinates gives NaN lat/lon (the country still counts; travel does not).
 */
export function lookupGeo(ip: string): GeoPoint | undefined {
  const address = parseIp(ip);
  if (address === undefined || isPrivateOrReserved(address)) return undefined;
  // Canonical text: a mapped ::ffff:a.b.c.d is looked up in the IPv4 table.
  const record = geoip.lookup(formatIp(address));
  if (!record?.country) return undefined;
  const [lat, lon] = record.ll ?? [];
  return {
    country: record.country.toUpperCase(),
    lat: typeof lat === "number" && Number.isFinite(lat) ? lat : Number.NaN,
    lon: typeof lon === "number" && Number.isFinite(lon) ? lon : Number.NaN,
  };
}
