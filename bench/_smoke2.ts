import { createContext } from "./context.js";
import { runScale } from "./scale.js";
const ctx = await createContext({ quick: true, log: console.log });
for (const backend of ["memory", "redis"] as const) for (const count of [1000, 10000]) {
  const r = await runScale(ctx, { backend, adapter: (process.argv[2] ?? "core") as any, count, windowMs: 4000 });
  const { config, ...rest } = r; console.log(backend, count, JSON.stringify(rest));
}
await ctx.dispose();
