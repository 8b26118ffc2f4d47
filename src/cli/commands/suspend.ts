import { type Command, parseCommandArgs } from "../command.ts";

export const suspend: Command = {
  name: "suspend",
  summary: "suspend a user (403 user_suspended everywhere) and revoke their sessions",
  usage: "<user>",
  async run(args, ctx) {
    const { positionals } = parseCommandArgs(this, args, ["user"], {});
    const result = await (await ctx.ops()).suspend(positionals[0]!);
    ctx.out(`suspended ${result.id}; revoked ${result.revoked} session(s)`);
    return 0;
  },
};
