/**
 * A Vigil Redis client reconnects forever unless Vigil itself closes it (quit/disconnect).
 *
 * ioredis can otherwise end a client for good. Its Sentinel failover detector stays subscribed
 * from the previous connection; when the primary dies, the client starts reconnecting, and when
 * Sentinel then announces the new primary the detector closes the connector, and if that happens
 * while the reconnect is still asking a sentinel for the primary, the connect attempt fails with
 * "Connection is closed." and ioredis sets the client to "end": no more reconnects, every
 * decision 503 until the process restarts. Any connect attempt cut short that way ends the same.
 */
import type Redis from "ioredis";

const REVIVE_DELAY_MS = 100;

export function keepReconnecting(client: Redis): void {
  let closedByVigil = false;
  const disconnect = client.disconnect.bind(client);
  const quit = client.quit.bind(client);
  client.disconnect = (reconnect = false) => {
    if (!reconnect) closedByVigil = true;
    disconnect(reconnect);
  };
  client.quit = ((...args: Parameters<Redis["quit"]>) => {
    closedByVigil = true;
    return quit(...args);
  }) as Redis["quit"];
  client.on("end", () => {
    if (closedByVigil) return;
    setTimeout(() => {
      if (!closedByVigil && client.status === "end") client.connect().catch(() => {});
    }, REVIVE_DELAY_MS).unref?.();
  });
}
