import { type Command, parseCommandArgs } from "../command.ts";

export const resume: Command = {
  name: "resume",
  summary: "lift a user's suspension, ending their sessions first (they sign in again)",
  usage: "<user>",
  async run(args, ctx) {
    const { positionals } = parseCommandArgs(this, args, ["user"], {});
    const user = await (await ctx.ops()).resume(positionals[0]!);
    ctx.out(`${user.id} is ${user.status}; ended ${user.revoked} session(s)`);
    return 0;
  },
};
