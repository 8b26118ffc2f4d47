import { Cluster } from "ioredis";
import { migrateLegacyKeys } from "../../adapters/redis/migrate-keys.ts";
import { type Command, parseCommandArgs } from "../command.ts";
import { CliError } from "../context.ts";

export const migrateKeys: Command = {
  name: "migrate-keys",
  summary: "move users and passkeys from the key layout before hash tags; old sessions end",
  usage: "",
  async run(args, ctx) {
    parseCommandArgs(this, args, [], {});
    const stores = await ctx.stores();
    const client = await ctx.redis();
    // The layout before hash tags only ever ran on one Redis: there is nothing to move on Cluster.
    if (client instanceof Cluster)
      throw new CliError(2, "the old key layout never ran on Redis Cluster: nothing to move");
    const report = await migrateLegacyKeys(client, ctx.config().redis.prefix, stores);
    ctx.out(
      `moved ${report.users} users and ${report.passkeys} passkeys; dropped ${report.dropped} old session, ` +
        "rate and reputation keys (users sign in again)",
    );
    return 0;
  },
};
