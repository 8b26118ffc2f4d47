import { type Command, parseCommandArgs } from "../command.ts";

export const deleteUser: Command = {
  name: "delete-user",
  summary: "delete a user: sessions, passkeys, links and record (the audit trail keeps the deletion)",
  usage: "<user> --yes",
  async run(args, ctx) {
    const { positionals, values } = parseCommandArgs(this, args, ["user"], { yes: { type: "boolean" } });
    if (!values.yes) {
      ctx.err(`this deletes ${positionals[0]} for good; run again with --yes`);
      return 2;
    }
    const result = await (await ctx.ops()).deleteUser(positionals[0]!);
    ctx.out(`deleted ${result.deleted}: ${result.sessions} session(s), ${result.passkeys} passkey(s)`);
    return 0;
  },
};
