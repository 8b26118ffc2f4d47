import { type Command, parseCommandArgs } from "../command.ts";

export const suspend: Command = {
  name: "suspend",
  summary: "suspend a user: 403 user_suspended on every session and token (resume ends the sessions)",
  usage: "<user>",
  async run(args, ctx) {
    const { positionals } = parseCommandArgs(this, args, ["user"], {});
    const result = await (await ctx.ops()).suspend(positionals[0]!);
    ctx.out(
      `suspended ${result.id}: ${result.sessions} session(s) answer 403 user_suspended until resume ends them`,
    );
    return 0;
  },
};
