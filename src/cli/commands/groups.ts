import { type Command, parseCommandArgs, splitList } from "../command.ts";

export const groups: Command = {
  name: "groups",
  summary: 'set a user\'s groups (comma separated; "" clears them)',
  usage: "<user> <group,group,...>",
  async run(args, ctx) {
    const { positionals } = parseCommandArgs(this, args, ["user", "groups"], {});
    const user = await (await ctx.ops()).setGroups(positionals[0]!, splitList(positionals[1]));
    ctx.out(`${user.id} groups: ${user.groups.join(",") || "(none)"}`);
    return 0;
  },
};
