/**
 * Where the request comes from, against the session:
 * - country mismatch: the request's country differs from the session's baseline country (set at
 *   sign-in, reset by a passed step-up);
 * - impossible travel: the distance from the last seen location over the time since that location
 *   was recorded (`lastLocatedAt`, not `lastSeenAt`: requests without a location move the latter)
 *   implies a speed above `max_speed_kmh`.
 * Private, reserved or unknown locations on either side are no evidence, and moves shorter than
 * `min_travel_km` are geoip noise (city-level accuracy), not travel.
 */
import type { RiskReason } from "../../core/types.ts";
import { append, NO_EVIDENCE, type RiskSignal, RiskSignalName } from "../types.ts";
import { distanceKm } from "./geo-distance.ts";

const MS_PER_HOUR = 3_600_000;

export const geoSignal: RiskSignal = ({ session, location, now }, { config }) => {
  const geo = config.geo;
  if (!geo.enabled || session === undefined || location === undefined) return NO_EVIDENCE;
  let reasons: RiskReason[] | undefined;

  if (geo.country_mismatch_points > 0 && session.country !== "" && location.country !== "") {
    const baseline = session.country.toUpperCase();
    const country = location.country.toUpperCase();
    if (baseline !== country) {
      reasons = append(reasons, {
        signal: RiskSignalName.countryMismatch,
        points: geo.country_mismatch_points,
        detail: `request from ${country}, session established in ${baseline}`,
      });
    }
  }

  const known =
    Number.isFinite(session.lastLat) &&
    Number.isFinite(session.lastLon) &&
    Number.isFinite(location.lat) &&
    Number.isFinite(location.lon);
  if (known && session.lastLocatedAt > 0 && geo.impossible_travel_points > 0) {
    const km = distanceKm(session.lastLat, session.lastLon, location.lat, location.lon);
    // Replicas' clocks may disagree by a little: a "negative" elapsed time is no time at all.
    const hours = Math.max(0, now - session.lastLocatedAt) / MS_PER_HOUR;
    const speed = hours === 0 ? Number.POSITIVE_INFINITY : km / hours;
    if (km >= geo.min_travel_km && speed > geo.max_speed_kmh) {
      reasons = append(reasons, {
        signal: RiskSignalName.impossibleTravel,
        points: geo.impossible_travel_points,
        detail: `${Math.round(km)} km in ${formatHours(hours)} (over ${geo.max_speed_kmh} km/h)`,
      });
    }
  }
  return reasons === undefined ? NO_EVIDENCE : { reasons };
};

function formatHours(hours: number): string {
  if (hours < 1 / 60) return `${Math.round(hours * 3600)} s`;
  if (hours < 1) return `${Math.round(hours * 60)} min`;
  return `${hours.toFixed(1)} h`;
}
