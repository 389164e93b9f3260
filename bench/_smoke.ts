import { createContext } from "./context.js";
import { handoverSeries, frameworkStopDuration } from "./handover.js";
import { Worker } from "./workers.js";
import { summarize } from "./stats.js";
const ctx = await createContext({ quick: true, log: console.log });
const a = await Worker.start("A"); const b = await Worker.start("B");
console.log("rtt", summarize(await a.calibrate(20)), a.clockOffsetMs); await b.calibrate(20);
for (const kind of (process.argv[2] ?? "memory,file,redis,postgres").split(",") as any[]) {
  const s = await handoverSeries(ctx, { label: kind, lock: ctx.lockSpec(kind), first: a, second: kind === "memory" ? a : b, count: Number(process.argv[3] ?? 15), streamRate: 200 });
  console.log(kind, "gap", summarize(s.samples.map(x => x.gapMs)), "firstCall", summarize(s.samples.map(x => x.waiterFirstCallMs ?? NaN)), s.updates);
  console.log(" released", summarize(s.samples.map(x=>x.releasedMs ?? NaN)), "acquired", summarize(s.samples.map(x=>x.acquiredMs??NaN)));
  console.log(" confirms", s.samples.filter(x=>x.confirm).length, "throttled", s.samples.filter(x=>x.confirm?.throttled).length, "served", summarize(s.samples.filter(x=>x.confirm?.servedMs!=null).map(x=>x.confirm!.servedMs!)), "heard", s.samples.reduce((n,x)=>n+x.conflictsHeard,0));
}
await a.close(); await b.close(); await ctx.dispose();
