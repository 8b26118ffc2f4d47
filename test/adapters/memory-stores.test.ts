import { expect, test } from "bun:test";
import { createMemoryStores } from "../../src/adapters/memory/index.ts";
import { runStoreContract } from "./store-contract.ts";

runStoreContract("memory", (options) => createMemoryStores(options));

test("the memory store reports its kind and is always healthy", async () => {
  const { health } = createMemoryStores();
  expect(health.kind).toBe("memory");
  expect(await health.ping()).toBe(true);
  await health.close();
});
