import { type Command, parseCommandArgs } from "../command.ts";

export const recover: Command = {
  name: "recover",
  summary: "print a single-use recovery link (a new passkey) for a user; earlier links stop working",
  usage: "<user>",
  async run(args, ctx) {
    const { positionals } = parseCommandArgs(this, args, ["user"], {});
    const result = await (await ctx.ops()).mintRecovery(positionals[0]!);
    ctx.out(result.url);
    ctx.err(`recovery link for ${result.user.id}, single use, valid until ${result.expires_at}`);
    return 0;
  },
};
