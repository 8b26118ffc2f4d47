/** @jsxImportSource hono/jsx */
/** The header navigation of signed-in pages: account, console (for admins) and sign-out. */
import type { FC } from "hono/jsx";

export const SignedInNav: FC<{ userId: string; isAdmin: boolean }> = ({ userId, isAdmin }) => (
  <>
    <a href="/account">Account</a>
    {isAdmin ? <a href="/console">Console</a> : null}
    <span class="muted">{userId}</span>
    <form class="inline" method="post" action="/logout">
      <button type="submit">Sign out</button>
    </form>
  </>
);
