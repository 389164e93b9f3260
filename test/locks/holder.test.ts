import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "../../src/errors.js";
import { createHolderRecord } from "../../src/locks/holder.js";

describe("createHolderRecord", () => {
  it("records the instance id with this machine, this process and the time", () => {
    const since = new Date("2024-05-01T12:00:00.000Z");
    expect(createHolderRecord("instance-1", since)).toEqual({
      instanceId: "instance-1",
      hostname: hostname(),
      pid: process.pid,
      since: "2024-05-01T12:00:00.000Z",
    });
  });

  it("makes up a random instance id and uses the current time by default", () => {
    const before = Date.now();
    const [a, b] = [createHolderRecord(), createHolderRecord()];
    expect(a.instanceId).not.toBe(b.instanceId);
    expect(Date.parse(a.since)).toBeGreaterThanOrEqual(before - 1);
  });

  it("rejects an empty instance id or an invalid date, naming the value", () => {
    expect(() => createHolderRecord("")).toThrow(InvalidOptionError);
    expect(() => createHolderRecord("")).toThrow(/`instanceId`.*got ""/);
    expect(() => createHolderRecord("x", new Date(Number.NaN))).toThrow(/`since`/);
  });
});
