import { type Command, parseCommandArgs, table } from "../command.ts";

export const users: Command = {
  name: "users",
  summary: "list users (id, status, groups)",
  usage: "[--json]",
  async run(args, ctx) {
    const { values } = parseCommandArgs(this, args, [], { json: { type: "boolean" } });
    const list = await (await ctx.ops()).listUsers();
    if (values.json) {
      ctx.out(JSON.stringify(list, null, 2));
      return 0;
    }
    if (list.length === 0) {
      ctx.out("no users");
      return 0;
    }
    ctx.out(
      table(
        ["USER", "STATUS", "GROUPS", "NAME", "CREATED"],
        list.map((u) => [u.id, u.status, u.groups.join(",") || "-", u.display_name, u.created_at]),
      ),
    );
    return 0;
  },
};
