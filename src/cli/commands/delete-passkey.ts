import { type Command, parseCommandArgs } from "../command.ts";

export const deletePasskey: Command = {
  name: "delete-passkey",
  summary: "delete one of a user's passkeys",
  usage: "<user> <passkey-id>",
  async run(args, ctx) {
    const { positionals } = parseCommandArgs(this, args, ["user", "id"], {});
    await (await ctx.ops()).deleteCredential(positionals[0]!, positionals[1]!);
    ctx.out(`deleted passkey ${positionals[1]} of ${positionals[0]}`);
    return 0;
  },
};
