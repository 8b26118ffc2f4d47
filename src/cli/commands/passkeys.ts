import { type Command, parseCommandArgs, table } from "../command.ts";

export const passkeys: Command = {
  name: "passkeys",
  summary: "list a user's passkeys",
  usage: "<user> [--json]",
  async run(args, ctx) {
    const { positionals, values } = parseCommandArgs(this, args, ["user"], { json: { type: "boolean" } });
    const list = await (await ctx.ops()).listCredentials(positionals[0]!);
    if (values.json) {
      ctx.out(JSON.stringify(list, null, 2));
      return 0;
    }
    if (list.length === 0) {
      ctx.out(`${positionals[0]} has no passkeys`);
      return 0;
    }
    ctx.out(
      table(
        ["PASSKEY", "LABEL", "TYPE", "BACKED UP", "CREATED", "LAST USED"],
        list.map((c) => [
          c.id,
          c.label,
          c.device_type,
          c.backed_up ? "yes" : "no",
          c.created_at,
          c.last_used_at ?? "-",
        ]),
      ),
    );
    return 0;
  },
};
