/** @jsxImportSource hono/jsx */
/** The heading row of the account page's and the console's tables. */
import type { FC } from "hono/jsx";

/**
 * Column headings, each `scope="col"`; with `actions`, a last column for the rows' buttons whose
 * name only screen readers hear.
 */
export const ColumnHeads: FC<{ names: readonly string[]; actions?: boolean }> = ({ names, actions }) => (
  <thead>
    <tr>
      {names.map((name) => (
        <th scope="col">{name}</th>
      ))}
      {actions ? (
        <th scope="col">
          <span class="visually-hidden">Actions</span>
        </th>
      ) : null}
    </tr>
  </thead>
);
