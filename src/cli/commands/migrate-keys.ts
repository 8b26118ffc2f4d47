import { migrateLegacyKeys } from "../../adapters/redis/migrate-keys.ts";
import { type Command, parseCommandArgs } from "../command.ts";

export const migrateKeys: Command = {
  name: "migrate-keys",
  summary: "move users and passkeys from the key layout before hash tags; old sessions end",
  usage: "",
  async run(args, ctx) {
    parseCommandArgs(this, args, [], {});
    const stores = await ctx.stores();
    const report = await migrateLegacyKeys(await ctx.redis(), ctx.config().redis.prefix, stores);
    ctx.out(
      `moved ${report.users} users and ${report.passkeys} passkeys; dropped ${report.dropped} old session, ` +
        "rate and reputation keys (users sign in again)",
    );
    return 0;
  },
};
