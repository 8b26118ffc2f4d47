import { type Command, parseCommandArgs } from "../command.ts";

export const revoke: Command = {
  name: "revoke",
  summary: "revoke all of a user's sessions, or one with --session <id>",
  usage: "<user> [--session <id>]",
  async run(args, ctx) {
    const { positionals, values } = parseCommandArgs(this, args, ["user"], { session: { type: "string" } });
    const user = positionals[0]!;
    const ops = await ctx.ops();
    if (values.session !== undefined) {
      await ops.revokeSession(values.session, user);
      ctx.out(`revoked session ${values.session.slice(0, 16)}… of ${user}`);
    } else {
      const { revoked } = await ops.revokeUserSessions(user, "admin");
      ctx.out(`revoked ${revoked} session(s) of ${user}`);
    }
    return 0;
  },
};
