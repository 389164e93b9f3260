import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { entries } from "../../tsup.config.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  exports: Record<string, unknown>;
  bin: Record<string, string>;
};

describe("package exports", () => {
  it("exports exactly the entries tsup builds, each with types for import and require", () => {
    const built = Object.keys(entries)
      .map((name) => (name === "index" ? "." : `./${name}`))
      .sort();
    const exported = Object.keys(pkg.exports)
      .filter((key) => key !== "./package.json")
      .sort();
    expect(exported).toEqual(built);
    for (const [key, value] of Object.entries(pkg.exports)) {
      if (key === "./package.json") continue;
      const name = key === "." ? "index" : key.slice(2);
      expect(value).toEqual({
        import: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
        require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` },
      });
    }
  });

  it("has a polling-supervisor bin", () => {
    expect(pkg.bin).toEqual({ "polling-supervisor": "./dist/cli.js" });
  });
});
